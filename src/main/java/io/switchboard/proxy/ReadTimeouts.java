package io.switchboard.proxy;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.switchboard.upstream.Provider;
import java.time.Duration;
import java.util.NoSuchElementException;
import java.util.concurrent.TimeUnit;
import reactor.netty.Connection;
import reactor.netty.NettyPipeline;

/**
 * The upstream read timer across an answer's two phases. Reactor Netty has one read timer per
 * request ({@code responseTimeout}), started once the request is sent: set to the idle limit alone,
 * it cut the wait for the headers at {@code idle-timeout} too, so a {@code response-timeout} above
 * it (a slow reasoning model given 600 s) never applied. Until the headers the timer is the longer
 * of the two limits, the header deadline being kept by the proxy; from the headers on it is the idle
 * limit.
 */
final class ReadTimeouts {

    private ReadTimeouts() {}

    static Duration untilHeaders(Provider provider) {
        Duration idle = provider.idleTimeout();
        Duration response = provider.responseTimeout();
        return response.compareTo(idle) > 0 ? response : idle;
    }

    /** Called when the headers arrive: the read timer becomes the idle limit, if it was longer. */
    static void idleFromNow(Connection connection, Provider provider) {
        Duration idle = provider.idleTimeout();
        if (provider.responseTimeout().compareTo(idle) <= 0) {
            return;
        }
        ChannelPipeline pipeline = connection.channel().pipeline();
        try {
            pipeline.replace(
                    NettyPipeline.ResponseTimeoutHandler,
                    NettyPipeline.ResponseTimeoutHandler,
                    new ReadTimeoutHandler(idle.toMillis(), TimeUnit.MILLISECONDS));
        } catch (NoSuchElementException answeredAlready) {
            // The whole answer was read and Reactor Netty removed its timer: nothing left to time.
        }
    }
}
