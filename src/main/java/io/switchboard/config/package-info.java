/** Wires the beans of the other packages together; holds no logic of its own. */
@NullMarked
package io.switchboard.config;

import org.jspecify.annotations.NullMarked;
