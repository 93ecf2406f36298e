/** Admission per key: requests and tokens per minute, concurrent requests and budgets, in memory or shared through Redis. */
@NullMarked
package io.switchboard.ratelimit;

import org.jspecify.annotations.NullMarked;
