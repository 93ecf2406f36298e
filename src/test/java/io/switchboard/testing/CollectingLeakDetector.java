package io.switchboard.testing;

import io.netty.util.ResourceLeakDetector;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Netty's leak detector, named by {@code -Dio.netty.customResourceLeakDetector} in the test JVM's
 * arguments, that also keeps every leak it reports for {@link NettyLeakDetectionExtension}. Reading
 * them from the log was not enough: each gateway context started in a test resets Logback, which
 * drops any appender a test attached, and Netty reports each leak only once.
 */
public final class CollectingLeakDetector<T> extends ResourceLeakDetector<T> {

    static final List<String> LEAKS = new CopyOnWriteArrayList<>();

    public CollectingLeakDetector(Class<?> resourceType, int samplingInterval) {
        super(resourceType, samplingInterval);
    }

    @SuppressWarnings("deprecation")
    public CollectingLeakDetector(Class<?> resourceType, int samplingInterval, long maxActive) {
        super(resourceType, samplingInterval, maxActive);
    }

    @Override
    protected void reportTracedLeak(String resourceType, String records) {
        LEAKS.add("LEAK: " + resourceType + ".release() was not called" + records);
        super.reportTracedLeak(resourceType, records);
    }

    @Override
    protected void reportUntracedLeak(String resourceType) {
        LEAKS.add("LEAK: " + resourceType + ".release() was not called (untraced)");
        super.reportUntracedLeak(resourceType);
    }
}
