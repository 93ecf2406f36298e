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
                new UsageRepository(losingResults(db.connections())),
                UsageFixtures.properties(
                        dir.resolve("spill.jsonl"), "flush-interval", "20ms", "retry-backoff", "20ms"));
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
