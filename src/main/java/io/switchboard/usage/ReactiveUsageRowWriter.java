package io.switchboard.usage;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import reactor.core.publisher.Mono;

/** The ledger's rows through {@link UsageRepository} (R2DBC), waited for on the ledger's database thread: PostgreSQL's writer. */
final class ReactiveUsageRowWriter implements UsageRowWriter {

    private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(10);

    private final UsageRepository repository;

    ReactiveUsageRowWriter(UsageRepository repository) {
        this.repository = repository;
    }

    @Override
    public int insert(List<UsageRecord> records) throws Exception {
        await(repository.insert(records));
        return 0;
    }

    @Override
    public void correct(UsageRecord record) throws Exception {
        await(repository.correct(record));
    }

    private static void await(Mono<Void> work) throws Exception {
        // The ledger's database thread, never an event loop: waiting here is its job.
        try {
            work.toFuture().get(WRITE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        } catch (TimeoutException e) {
            throw new IOException("usage write timed out after " + WRITE_TIMEOUT);
        }
    }
}
