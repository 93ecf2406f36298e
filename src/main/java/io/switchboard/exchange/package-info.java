/** The state of one request as it travels through the filters and the proxy, the hooks that observe it, and its calls' timeouts. */
@NullMarked
package io.switchboard.exchange;

import org.jspecify.annotations.NullMarked;
