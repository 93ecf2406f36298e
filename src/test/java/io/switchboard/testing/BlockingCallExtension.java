package io.switchboard.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import reactor.blockhound.BlockingMethod;

/**
 * Fails a test when BlockHound saw a blocking call on a non-blocking thread during it. BlockHound's
 * default reaction, throwing from inside the blocking method, is worse than the block: thrown from
 * inside {@code ReentrantLock.lock()} it leaves the lock's wait queue holding a node that never
 * acquires, so later contenders park forever and requests hang with no trace (seen in CI). The
 * {@link GatewayBlockHoundIntegration} callback records the call and its stack instead, lets it
 * proceed, and this extension turns the record into a test failure naming the offending code.
 */
public final class BlockingCallExtension implements AfterEachCallback {

    private static final List<String> CALLS = new CopyOnWriteArrayList<>();

    static void record(BlockingMethod method) {
        StringWriter stack = new StringWriter();
        new Throwable(method + " on " + Thread.currentThread().getName()).printStackTrace(new PrintWriter(stack));
        String report = stack.toString();
        CALLS.add(report);
        System.err.println("Blocking call on a non-blocking thread: " + report);
    }

    /** The calls recorded since the last drain, forgotten. */
    static List<String> drain() {
        List<String> found = List.copyOf(CALLS);
        CALLS.removeAll(found);
        return found;
    }

    @Override
    public void afterEach(ExtensionContext context) {
        List<String> found = drain();
        assertThat(found)
                .as("blocking calls on event-loop threads during or before this test")
                .isEmpty();
    }
}
