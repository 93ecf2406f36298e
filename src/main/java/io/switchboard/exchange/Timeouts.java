package io.switchboard.exchange;

import java.time.Duration;
import java.util.concurrent.TimeoutException;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Reactor's {@code timeout}, for calls made on every request. Without a fallback, Reactor's timeout
 * builds its error's message on every subscription, whether it fires or not, by naming each operator
 * above it (a walk of the whole chain with a regular expression per step: 1% of the gateway's CPU
 * for the upstream call alone, docs/benchmarks.md). With a fallback it does not; this one fails with
 * the {@link TimeoutException} the plain timeout would have, built only when the time is up.
 */
public final class Timeouts {

    private Timeouts() {}

    /** {@code call}, or a {@link TimeoutException} if it has not answered within {@code limit}. */
    public static <T> Mono<T> within(Mono<T> call, Duration limit, Scheduler timer) {
        return call.timeout(limit, Mono.error(() -> new TimeoutException("No answer within " + limit)), timer);
    }

    /** As {@link #within(Mono, Duration, Scheduler)}, timed on Reactor's parallel scheduler. */
    public static <T> Mono<T> within(Mono<T> call, Duration limit) {
        return within(call, limit, Schedulers.parallel());
    }
}
