package io.switchboard.upstream;

import io.netty.channel.Channel;
import io.switchboard.errors.ClosedConnection;
import org.jspecify.annotations.Nullable;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * One request's call to its upstream: the channel its connect is made on and whether the request
 * was written out whole. The request puts it in its Reactor context ({@link #into}); the connection
 * pool connects with the context of the request that asked, and {@link ProviderRegistry}'s hooks
 * report the new channel and the finished write here.
 *
 * <ul>
 *   <li>A request that ends before its connect does (the client left, the response timeout fired)
 *       abandons the connect at once. Without this the pool keeps connecting for a request nobody
 *       waits for, up to the connect timeout.
 *   <li>A connection that closes before the request was written out whole is retried once, on
 *       another connection ({@link #retryable}): the upstream cannot have acted on a request it did
 *       not receive whole, so the retry cannot start a second generation (Go's HTTP client resends
 *       on the same rule). A request written whole is never resent: it may be billed.
 * </ul>
 */
public final class UpstreamAttempt {

    private static final Class<UpstreamAttempt> KEY = UpstreamAttempt.class;

    private volatile @Nullable Channel channel;
    private volatile boolean abandoned;
    private volatile boolean written;

    public Context into(Context context) {
        return context.put(KEY, this);
    }

    /** Called from the channel hook with the context the pool connected in. */
    static void started(ContextView context, Channel channel) {
        UpstreamAttempt attempt = context.getOrDefault(KEY, null);
        if (attempt != null) {
            attempt.channel = channel;
            if (attempt.abandoned) {
                attempt.closeIfConnecting(channel);
            }
        }
    }

    /** Called once the request, headers and body, was written to the connection. */
    static void written(ContextView context) {
        UpstreamAttempt attempt = context.getOrDefault(KEY, null);
        if (attempt != null) {
            attempt.written = true;
        }
    }

    /** The request no longer waits: a connect still in progress is closed; a connected channel is left to its owner. */
    public void abandon() {
        abandoned = true;
        Channel current = channel;
        if (current != null) {
            closeIfConnecting(current);
        }
    }

    /**
     * Whether the call may be made again after {@code error}: for a connection that closed before the
     * request was written out whole, while the request still waits. A failed connect is not retried
     * (the connect timeout would be paid twice). The caller makes it again once at most.
     */
    public boolean retryable(Throwable error) {
        return !written && !abandoned && ClosedConnection.is(error);
    }

    private void closeIfConnecting(Channel current) {
        if (current.isOpen() && !current.isActive()) {
            current.close();
        }
    }
}
