package io.switchboard.keys;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Notes which keys were used and writes {@code last_used_at} for all of them in one UPDATE every few
 * seconds, off the request path: a row update per request became LiteLLM's bottleneck.
 */
public final class LastUsedRecorder implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LastUsedRecorder.class);

    private static final Duration LAST_FLUSH_WAIT = Duration.ofSeconds(2);

    private final Set<String> pending = ConcurrentHashMap.newKeySet();
    private final BiFunction<Collection<String>, Instant, Mono<Long>> writer;
    private final Clock clock;
    private final Disposable schedule;

    /**
     * @param writer sets {@code last_used_at} of the given keys in one statement ({@link KeyRepository#touch})
     */
    public LastUsedRecorder(BiFunction<Collection<String>, Instant, Mono<Long>> writer, Clock clock, Duration every) {
        this.writer = writer;
        this.clock = clock;
        this.schedule = Flux.interval(every, every, Schedulers.parallel())
                .onBackpressureDrop()
                .concatMap(tick -> flush().onErrorResume(error -> {
                    log.warn("Could not record last use of keys: {}", error.toString());
                    return Mono.empty();
                }))
                .subscribe();
    }

    /** Called per authenticated request: a set insert, nothing more. */
    public void record(String keyId) {
        pending.add(keyId);
    }

    /**
     * Writes what was recorded since the last flush. A batch whose write fails (the database down or
     * slow) is recorded again for the next flush, which stamps it with its own, later time: a key
     * used only during an outage showed "never used", and could be taken for one to revoke.
     */
    public Mono<Long> flush() {
        if (pending.isEmpty()) {
            return Mono.just(0L);
        }
        List<String> batch = List.copyOf(pending);
        pending.removeAll(batch);
        return Mono.defer(() -> writer.apply(batch, clock.instant())).doOnError(error -> pending.addAll(batch));
    }

    /**
     * Stops the schedule and writes the keys used since the last flush, waiting a bounded time: a
     * stop once left them with the use before. The pool is still open here, as this bean is closed
     * before the repository it writes through; never called on an event loop.
     */
    @Override
    public void close() {
        schedule.dispose();
        try {
            flush().block(LAST_FLUSH_WAIT);
        } catch (RuntimeException e) {
            log.warn("Could not record the last use of keys at stop: {}", e.toString());
        }
    }
}
