/** The upstream providers: their configuration, their HTTP clients, which one serves a model, and what headers go to them. */
@NullMarked
package io.switchboard.upstream;

import org.jspecify.annotations.NullMarked;
