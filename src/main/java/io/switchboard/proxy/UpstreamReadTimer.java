package io.switchboard.proxy;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.switchboard.upstream.Provider;
import java.util.concurrent.TimeUnit;
import reactor.netty.Connection;
import reactor.netty.NettyPipeline;

/**
 * The upstream's silence inside an answer: past the provider's {@code idle-timeout} without a read,
 * the call ends. Netty's {@link ReadTimeoutHandler}, told two things more:
 *
 * <ul>
 *   <li>It judges only once the answer has begun. The wait for the headers is the proxy's own
 *       {@code response-timeout} deadline; Reactor Netty's one read timer per request cut that wait
 *       at {@code idle-timeout} too, so a longer {@code response-timeout} (a slow reasoning model
 *       given 600 s) never applied. (It was worked around by a timer of the longer limit swapped for
 *       the idle one when the headers came, a second handler per request.)
 *   <li>While the gateway itself has stopped reading (Reactor Netty turns auto-read off when the
 *       client does not take what was read, its back-pressure), no read is not the upstream's
 *       silence. Otherwise a client that paused for longer than {@code idle-timeout} had its stream
 *       cut and the cut recorded as the upstream's timeout.
 * </ul>
 */
final class UpstreamReadTimer extends ReadTimeoutHandler {

    private boolean answered;

    private UpstreamReadTimer(Provider provider) {
        super(provider.idleTimeout().toNanos(), TimeUnit.NANOSECONDS);
    }

    /**
     * Starts the timer of a request about to be sent on {@code connection}, in the place (and under
     * the name) of Reactor Netty's own, so that Reactor Netty removes it as it would its own once the
     * exchange on the connection ends.
     */
    static void start(Connection connection, Provider provider) {
        connection.addHandlerFirst(NettyPipeline.ResponseTimeoutHandler, new UpstreamReadTimer(provider));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        answered = true;
        super.channelRead(ctx, msg);
    }

    @Override
    protected void readTimedOut(ChannelHandlerContext ctx) throws Exception {
        if (answered && ctx.channel().config().isAutoRead()) {
            super.readTimedOut(ctx);
        }
    }
}
