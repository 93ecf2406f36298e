package io.switchboard.usage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Statement;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

class UsageRepositoryTest {

    @TempDir
    Path dir;

    private final TestDatabases.Database db = TestDatabases.h2();
    private final AtomicBoolean resultsLost = new AtomicBoolean(true);

    private static UsageRecord record(long prompt) {
        return UsageFixtures.record("key-1", "openai/gpt-5-nano", prompt, 2, "0.001", Instant.now());
    }

    @Test
    void anInsertTheDatabaseDidNotConfirmFailsInsteadOfCountingAsWritten() {
        UsageRepository repository = new UsageRepository(losingResults(db.connections()));

        assertThatThrownBy(
                        () -> repository.insert(List.of(record(1), record(2))).block(Duration.ofSeconds(5)))
                .hasMessageContaining("confirmed 0 of 2");
    }

    @Test
    void theLedgerRetriesABatchTheDatabaseDidNotConfirmUntilItIsStored() {
        UsageLedger ledger = new UsageLedger(
                UsageRowWriter.of(new UsageRepository(losingResults(db.connections()))),
                UsageFixtures.properties(dir.resolve("spill.jsonl"), "flush-interval", "20ms", "retry-backoff", "20ms"),
                null,
                dir.resolve("spill.jsonl"));
        ledger.start();
        try {
            ledger.record(record(5));
            await().atMost(Duration.ofSeconds(5)).until(ledger::failing);
            assertThat(ledger.written()).isZero();

            resultsLost.set(false);
            await().atMost(Duration.ofSeconds(10)).until(() -> db.count("SELECT COUNT(*) FROM usage") == 1);
            assertThat(ledger.lost()).isZero();
        } finally {
            ledger.stop();
        }
    }

    @Test
    void everyRowIsReadInPagesOnceInOrderAndNoConnectionIsHeldBetweenPages() {
        AtomicInteger open = new AtomicInteger();
        UsageRepository repository = new UsageRepository(countingOpen(db.connections(), open));
        Instant at = Instant.parse("2026-11-02T10:00:00Z");
        List<UsageRecord> rows = new java.util.ArrayList<>();
        for (int i = 0; i < 25; i++) {
            // Five rows per instant: a page may end in the middle of an instant.
            rows.add(UsageFixtures.record("key-1", "openai/gpt-5-nano", i, 2, "0.001", at.plusSeconds(i / 5)));
        }
        repository.insert(rows).block(Duration.ofSeconds(5));
        List<String> expected = rows.stream()
                .sorted(java.util.Comparator.comparing(UsageRecord::createdAt).thenComparing(UsageRecord::entryId))
                .map(UsageRecord::entryId)
                .toList();

        List<String> read = new java.util.ArrayList<>();
        Flux<UsageRecord> all = repository.findAll(null, null, at, at.plusSeconds(60), 10);
        reactor.test.StepVerifier.create(all, 1)
                .consumeNextWith(first -> read.add(first.entryId()))
                // A consumer that is slow to ask for more (a CSV download) keeps no connection.
                .then(() -> await().atMost(Duration.ofSeconds(5)).until(() -> open.get() == 0))
                .thenRequest(Long.MAX_VALUE)
                .thenConsumeWhile(row -> read.add(row.entryId()))
                .verifyComplete();

        assertThat(read).containsExactlyElementsOf(expected);
    }

    /**
     * The rows a start resumes the settlement of: only the providers that settle, newest first.
     * Rows of other providers (OpenAI's, a vLLM's) filled the limit, and oldest first the same rows
     * that never settle came back at every start while newer ones waited.
     */
    @Test
    void theRowsToSettleAreThoseOfProvidersThatSettleNewestFirst() {
        UsageRepository repository = new UsageRepository(db.connections());
        Instant at = Instant.parse("2026-11-02T10:00:00Z");
        List<UsageRecord> rows = List.of(
                estimated("openrouter", at.plusSeconds(1)),
                estimated("openai", at.plusSeconds(2)),
                estimated("openrouter", at.plusSeconds(3)),
                estimated("openai", at.plusSeconds(4)),
                estimated("openai", at.plusSeconds(5)),
                estimated("openai", at.plusSeconds(6)));
        repository.insert(rows).block(Duration.ofSeconds(5));

        List<String> found = repository
                .unsettled(at, at.plusSeconds(60), List.of("openrouter"), 2)
                .map(UsageRecord::entryId)
                .collectList()
                .block(Duration.ofSeconds(5));

        assertThat(found).containsExactly(rows.get(2).entryId(), rows.get(0).entryId());
        assertThat(repository
                        .unsettled(at, at.plusSeconds(60), List.of(), 10)
                        .collectList()
                        .block(Duration.ofSeconds(5)))
                .isEmpty();
    }

    /** A streamed row of {@code provider} a client left, its numbers an estimate to be settled. */
    private static UsageRecord estimated(String provider, Instant at) {
        UsageRecord done = UsageFixtures.record("key-1", "openai/gpt-5-nano", 5, 2, null, at);
        return new UsageRecord(
                done.entryId(),
                done.requestId(),
                done.keyId(),
                done.keyName(),
                done.endpoint(),
                done.requestedModel(),
                done.model(),
                done.servedModel(),
                provider,
                done.upstreamProvider(),
                done.generationId(),
                true,
                200,
                UsageOutcome.CLIENT_CLOSED,
                5,
                2,
                7,
                0,
                0,
                true,
                null,
                "none",
                100,
                10L,
                20L,
                at);
    }

    /** The real database, counting the connections open at any moment in {@code open}. */
    private static ConnectionFactory countingOpen(ConnectionFactory real, AtomicInteger open) {
        return delegate(
                ConnectionFactory.class,
                real,
                (method, args, result) -> method.getName().equals("create")
                        ? Mono.from((org.reactivestreams.Publisher<?>) result)
                                .doOnNext(connection -> open.incrementAndGet())
                                .map(connection -> delegate(
                                        Connection.class,
                                        connection,
                                        (inner, innerArgs, innerResult) ->
                                                inner.getName().equals("close")
                                                        ? Mono.from((org.reactivestreams.Publisher<?>) innerResult)
                                                                .doOnTerminate(open::decrementAndGet)
                                                        : innerResult))
                        : result);
    }

    /**
     * The real database, except that while {@link #resultsLost} is set every statement ends with no
     * result and no error, as r2dbc-postgresql's can on a connection that was just lost.
     */
    private ConnectionFactory losingResults(ConnectionFactory real) {
        return delegate(
                ConnectionFactory.class,
                real,
                (method, args, result) -> method.getName().equals("create")
                        ? Mono.from((org.reactivestreams.Publisher<?>) result)
                                .map(connection -> delegate(Connection.class, connection, this::statements))
                        : result);
    }

    private Object statements(java.lang.reflect.Method method, Object[] args, Object result) {
        return method.getName().equals("createStatement")
                ? delegate(Statement.class, result, (inner, innerArgs, innerResult) -> {
                    if (inner.getName().equals("execute") && resultsLost.get()) {
                        return Flux.empty();
                    }
                    return innerResult;
                })
                : result;
    }

    private interface Rewrite {
        Object apply(java.lang.reflect.Method method, Object[] args, Object result);
    }

    /** A proxy that calls {@code target} and passes each result through {@code rewrite}; fluent calls return the proxy. */
    @SuppressWarnings("unchecked")
    private static <T> T delegate(Class<T> type, Object target, Rewrite rewrite) {
        Object[] self = new Object[1];
        self[0] = Proxy.newProxyInstance(
                UsageRepositoryTest.class.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
                    Object result;
                    try {
                        result = method.invoke(target, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    return result == target ? self[0] : rewrite.apply(method, args, result);
                });
        return (T) self[0];
    }
}
