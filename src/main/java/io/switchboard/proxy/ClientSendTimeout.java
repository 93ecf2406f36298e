package io.switchboard.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.netty.http.server.HttpServer;

/**
 * Disconnects a client that accepts no byte of its answer for {@code gateway.streaming.send-timeout},
 * as nginx's {@code send_timeout} does. Back-pressure holds the relay back rather than failing it,
 * so a client that keeps its connection open but stops reading would otherwise keep its concurrency
 * slot, its budget and token reservations and its upstream connection for as long as it liked.
 * Closing the connection ends the exchange as a client that left ({@code client_closed}).
 *
 * <p>A connection is watched only while a flush left bytes behind in Netty (the kernel would take no
 * more): a client that keeps up costs a small handler and no timer. Progress is Netty's backlog
 * shrinking or a new flush (the relay writes its next event only once the last one went out, or
 * once the connection is writable again). Both happen only when the kernel takes bytes, so a client
 * that reads a byte now and then but never frees enough of its socket for the kernel to take more
 * counts as stalled, as it does for nginx.
 */
public final class ClientSendTimeout {

    private static final Logger log = LoggerFactory.getLogger(ClientSendTimeout.class);
    private static final String NAME = "switchboard.clientSendTimeout";
    /** A stall is judged this many times per timeout, so a connection closes within 1⅛ of it. */
    private static final int LOOKS_PER_TIMEOUT = 8;

    private final Duration timeout;

    public ClientSendTimeout(Duration timeout) {
        this.timeout = timeout;
    }

    /** The server with a watch at the front of every client connection; unchanged when off. */
    public HttpServer installOn(HttpServer server) {
        long timeoutNanos = timeout.toNanos();
        if (timeoutNanos <= 0) {
            return server;
        }
        return server.doOnChannelInit(
                (observer, channel, remoteAddress) -> channel.pipeline().addFirst(NAME, new Watch(timeoutNanos)));
    }

    /** One connection's watch, on its event loop. */
    private final class Watch extends ChannelOutboundHandlerAdapter implements Runnable {

        private final long timeoutNanos;
        private @Nullable Channel channel;
        private long flushes;
        private boolean looking;
        private long flushesSeen;
        private long backlogSeen;
        private long progressAt;

        Watch(long timeoutNanos) {
            this.timeoutNanos = timeoutNanos;
        }

        @Override
        public void flush(ChannelHandlerContext ctx) {
            ctx.flush();
            flushes++;
            if (!looking && backlog(ctx.channel()) > 0) {
                looking = true;
                channel = ctx.channel();
                flushesSeen = flushes;
                backlogSeen = Long.MAX_VALUE;
                progressAt = System.nanoTime();
                lookAgain();
            }
        }

        @Override
        public void run() {
            Channel channel = this.channel;
            long backlog = backlog(channel);
            if (!channel.isActive() || backlog == 0) {
                looking = false;
                return;
            }
            long now = System.nanoTime();
            if (flushes != flushesSeen || backlog < backlogSeen) {
                progressAt = now;
            }
            flushesSeen = flushes;
            backlogSeen = backlog;
            if (now - progressAt < timeoutNanos) {
                lookAgain();
                return;
            }
            looking = false;
            log.info(
                    "Closing the connection of {}: it accepted no bytes of its answer for {} (gateway.streaming.send-timeout)",
                    channel.remoteAddress(),
                    timeout);
            channel.close();
        }

        private void lookAgain() {
            channel.eventLoop().schedule(this, Math.max(1, timeoutNanos / LOOKS_PER_TIMEOUT), TimeUnit.NANOSECONDS);
        }

        private static long backlog(Channel channel) {
            ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer();
            return buffer == null ? 0 : buffer.totalPendingWriteBytes();
        }
    }
}
