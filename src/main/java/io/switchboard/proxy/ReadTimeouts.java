package io.switchboard.proxy;

import io.netty.channel.ChannelPipeline;
import io.switchboard.upstream.Provider;
import java.time.Duration;
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

    /**
     * Starts the read timer of a request about to be sent on {@code connection}, in the place (and
     * under the name) of Reactor Netty's own, so that Reactor Netty removes it as it would its own
     * once the answer is read whole.
     */
    static void start(Connection connection, Provider provider) {
        connection.addHandlerFirst(NettyPipeline.ResponseTimeoutHandler, new UpstreamReadTimer(untilHeaders(provider)));
    }

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
        if (pipeline.context(NettyPipeline.ResponseTimeoutHandler) == null) {
            // The whole answer was read and Reactor Netty removed the timer: nothing left to time.
            return;
        }
        pipeline.replace(
                NettyPipeline.ResponseTimeoutHandler,
                NettyPipeline.ResponseTimeoutHandler,
                new UpstreamReadTimer(idle));
    }
}
