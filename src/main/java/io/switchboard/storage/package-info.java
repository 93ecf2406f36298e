/** Where the gateway's tables live (embedded H2 file or PostgreSQL) and the migrations that create them. */
@NullMarked
package io.switchboard.storage;

import org.jspecify.annotations.NullMarked;
