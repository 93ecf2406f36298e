package io.switchboard.testing;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The leak check itself: a buffer never released is reported, even with Netty's logger detached. */
class CollectingLeakDetectorTest {

    @Test
    void aBufferNeverReleasedIsCollectedAsALeakWhateverLoggingDoes() {
        // What a gateway context's start does to appenders a test attached: here, every appender goes.
        ((Logger) LoggerFactory.getLogger("io.netty.util.ResourceLeakDetector")).detachAndStopAllAppenders();
        CollectingLeakDetector.LEAKS.clear();
        leakOne();
        try {
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
                System.gc();
                // The detector looks at its queue when a buffer is allocated.
                PooledByteBufAllocator.DEFAULT.directBuffer(16).release();
                return !CollectingLeakDetector.LEAKS.isEmpty();
            });
            assertThat(CollectingLeakDetector.LEAKS.get(0)).startsWith("LEAK: ByteBuf");
        } finally {
            // Expected here: not a leak of this test's code under test.
            CollectingLeakDetector.LEAKS.clear();
        }
    }

    private static void leakOne() {
        ByteBuf leaked = PooledByteBufAllocator.DEFAULT.directBuffer(32);
        leaked.writeInt(42);
    }
}
