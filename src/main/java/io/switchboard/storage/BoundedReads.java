package io.switchboard.storage;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import reactor.core.publisher.Mono;

/**
 * Waits for a database read at most so long, without cancelling the read.
 *
 * <p>Why not Reactor's {@code timeout}: cancelling a statement before the driver sent it leaks its
 * bound parameters (r2dbc-postgresql #734, seen here with a slow database). Past the limit the read
 * goes on and its late answer is dropped.
 */
public final class BoundedReads {

    private BoundedReads() {}

    /** {@code read}'s answer, or a {@link java.util.concurrent.TimeoutException} after {@code limit}. */
    public static <T> CompletableFuture<T> waitAtMost(Mono<T> read, Duration limit) {
        return read.toFuture().orTimeout(limit.toMillis(), TimeUnit.MILLISECONDS);
    }
}
