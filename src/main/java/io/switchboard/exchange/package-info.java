/** The state of one request as it travels through the filters and the proxy, and the hooks that observe it. */
@NullMarked
package io.switchboard.exchange;

import org.jspecify.annotations.NullMarked;
