/** The gateway's Prometheus meters, with bounded tag values. */
@NullMarked
package io.switchboard.metrics;

import org.jspecify.annotations.NullMarked;
