package io.switchboard.proxy;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The read timer of an upstream answer: the upstream's silence past a limit ends the call. Netty's
 * {@link ReadTimeoutHandler}, told one thing more: while the gateway itself has stopped reading
 * (Reactor Netty turns auto-read off when the client does not take what was read, its
 * back-pressure), no read is not the upstream's silence. Without this a client that paused reading
 * for longer than {@code idle-timeout} had its stream cut and the cut recorded as the upstream's
 * timeout. The timer keeps running meanwhile and judges again one period later.
 */
final class UpstreamReadTimer extends ReadTimeoutHandler {

    UpstreamReadTimer(Duration limit) {
        super(limit.toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    protected void readTimedOut(ChannelHandlerContext ctx) throws Exception {
        if (ctx.channel().config().isAutoRead()) {
            super.readTimedOut(ctx);
        }
    }
}
