package io.switchboard.demo;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * What each demo generation cost, for {@code GET /generation?id=} (OpenRouter's settlement lookup).
 * Bounded: a demo left running for days must not grow without limit.
 */
final class DemoGenerations {

    record Generation(
            String id,
            String model,
            boolean streamed,
            boolean cancelled,
            long promptTokens,
            long completionTokens,
            double cost,
            String finishReason,
            Instant createdAt,
            long latencyMs) {}

    private final Cache<String, Generation> generations = Caffeine.newBuilder()
            .maximumSize(10_000)
            .expireAfterWrite(Duration.ofHours(1))
            .build();
    private final AtomicLong sequence = new AtomicLong();
    private final String prefix = "gen-demo-" + Long.toString(System.currentTimeMillis(), 36) + "-";

    String nextId() {
        return prefix + sequence.incrementAndGet();
    }

    void record(Generation generation) {
        generations.put(generation.id(), generation);
    }

    @Nullable
    Generation find(String id) {
        return generations.getIfPresent(id);
    }
}
