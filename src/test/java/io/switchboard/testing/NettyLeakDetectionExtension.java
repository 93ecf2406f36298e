package io.switchboard.testing;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Fails a test when Netty reports a leaked buffer ({@code LEAK:} from its paranoid detector, set in
 * the Surefire and Failsafe {@code argLine}). Registered for every test through JUnit's extension
 * auto-detection. Netty reports a leak only after the buffer is collected, so each test ends with a
 * collection and a few allocations that make the detector look.
 */
public final class NettyLeakDetectionExtension implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback {

    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();

    @Override
    public void beforeAll(ExtensionContext context) {
        install();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        install();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        install();
        if (ResourceLeakDetector.getLevel() != ResourceLeakDetector.Level.PARANOID) {
            throw new IllegalStateException("tests must run with -Dio.netty.leakDetection.level=paranoid");
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
        List<String> found = List.copyOf(LEAKS);
        LEAKS.clear();
        assertThat(found)
                .as("Netty buffer leaks reported during or before this test")
                .isEmpty();
    }

    private static synchronized void install() {
        // Spring Boot resets Logback when a context starts, dropping appenders: attach again if gone.
        Logger logger = (Logger) LoggerFactory.getLogger("io.netty.util.ResourceLeakDetector");
        if (logger.getAppender("netty-leak-collector") != null) {
            return;
        }
        AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent event) {
                String message = event.getFormattedMessage();
                if (message != null && message.contains("LEAK:")) {
                    LEAKS.add(message);
                }
            }
        };
        appender.setName("netty-leak-collector");
        appender.start();
        logger.addAppender(appender);
    }
}
