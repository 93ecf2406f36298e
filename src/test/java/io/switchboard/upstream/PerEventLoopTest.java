package io.switchboard.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoop;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PerEventLoopTest {

    @Test
    void eachLoopGetsItsOwnValueMadeOnce() {
        DefaultEventLoopGroup group = new DefaultEventLoopGroup(2);
        try {
            EventLoop first = group.next();
            EventLoop second = group.next();
            AtomicInteger made = new AtomicInteger();
            PerEventLoop<String> values = new PerEventLoop<>(loop -> "value " + made.incrementAndGet());

            String a = values.on(first);
            assertThat(values.on(first)).isSameAs(a);
            assertThat(values.on(second)).isNotEqualTo(a);
            assertThat(values.on(second)).isSameAs(values.on(second));
            assertThat(made).hasValue(2);
        } finally {
            group.shutdownGracefully();
        }
    }
}
