package io.switchboard.keys;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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

    private final Set<String> pending = ConcurrentHashMap.newKeySet();
    private final KeyRepository repository;
    private final Clock clock;
    private final Disposable schedule;

    public LastUsedRecorder(KeyRepository repository, Clock clock, Duration every) {
        this.repository = repository;
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

    /** Writes what was recorded since the last flush. */
    public Mono<Long> flush() {
        if (pending.isEmpty()) {
            return Mono.just(0L);
        }
        List<String> batch = List.copyOf(pending);
        pending.removeAll(batch);
        return repository.touch(batch, clock.instant());
    }

    @Override
    public void close() {
        schedule.dispose();
    }
}
