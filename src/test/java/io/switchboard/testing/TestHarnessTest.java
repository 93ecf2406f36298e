package io.switchboard.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.ResourceLeakDetector;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/** The guards every test relies on are really on: BlockHound and Netty's paranoid leak detection. */
class TestHarnessTest {

    @Test
    void blockingCallOnANonBlockingThreadIsRecordedWithItsStack() {
        String result = Mono.fromCallable(() -> {
                    Thread.sleep(1);
                    return "slept";
                })
                .subscribeOn(Schedulers.parallel())
                .block(Duration.ofSeconds(5));
        // The call went through (no error thrown into the caller's locks); the record fails the test.
        assertThat(result).isEqualTo("slept");
        assertThat(BlockingCallExtension.drain())
                .singleElement()
                .asString()
                .contains("java.lang.Thread.sleep", "parallel-", "TestHarnessTest");
    }

    @Test
    void nettyLeakDetectionIsParanoid() {
        assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.PARANOID);
    }
}
