package io.switchboard.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test when Netty reports a leaked buffer: its paranoid detector ({@code argLine} of Surefire
 * and Failsafe) reports through {@link CollectingLeakDetector}, which keeps the reports whatever
 * happens to logging, gateways started inside a test body included. Registered for every test
 * through JUnit's extension auto-detection. Netty reports a leak only after the buffer is
 * collected, so each test ends with a collection and a few allocations that make the detector look.
 */
public final class NettyLeakDetectionExtension implements AfterEachCallback {

    private static final String DETECTOR_PROPERTY = "io.netty.customResourceLeakDetector";

    @Override
    public void afterEach(ExtensionContext context) {
        if (ResourceLeakDetector.getLevel() != ResourceLeakDetector.Level.PARANOID) {
            throw new IllegalStateException("tests must run with -Dio.netty.leakDetection.level=paranoid");
        }
        if (!CollectingLeakDetector.class.getName().equals(System.getProperty(DETECTOR_PROPERTY))) {
            throw new IllegalStateException(
                    "tests must run with -D" + DETECTOR_PROPERTY + "=" + CollectingLeakDetector.class.getName());
        }
        for (int i = 0; i < 3; i++) {
            System.gc();
            for (int j = 0; j < 64; j++) {
                ByteBuf pooled = PooledByteBufAllocator.DEFAULT.directBuffer(16);
                pooled.release();
                ByteBuf unpooled = UnpooledByteBufAllocator.DEFAULT.heapBuffer(16);
                unpooled.release();
            }
        }
        List<String> found = List.copyOf(CollectingLeakDetector.LEAKS);
        CollectingLeakDetector.LEAKS.clear();
        assertThat(found)
                .as("Netty buffer leaks reported during or before this test")
                .isEmpty();
    }
}
