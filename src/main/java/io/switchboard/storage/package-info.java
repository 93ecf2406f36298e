/** Where the gateway's tables live (embedded H2 file or PostgreSQL), the migrations that create them, and bounded reads of them. */
@NullMarked
package io.switchboard.storage;

import org.jspecify.annotations.NullMarked;
