package io.switchboard.upstream;

import io.netty.channel.Channel;
import org.jspecify.annotations.Nullable;
import reactor.util.context.Context;

/**
 * The channel one request's upstream connect is made on, so that a request that ends before the
 * connect does (the client left, the response timeout fired) abandons it at once. Without this the
 * connection pool keeps connecting for a request nobody waits for, up to the connect timeout.
 *
 * <p>The request puts its attempt in its Reactor context ({@link #into}); the pool connects with the
 * context of the request that asked, and {@link ProviderRegistry}'s channel hook hands the new
 * channel back here.
 */
public final class ConnectAttempt {

    private static final Class<ConnectAttempt> KEY = ConnectAttempt.class;

    private volatile @Nullable Channel channel;
    private volatile boolean abandoned;

    public Context into(Context context) {
        return context.put(KEY, this);
    }

    /** Called from the channel hook with the context the pool connected in. */
    static void started(reactor.util.context.ContextView context, Channel channel) {
        ConnectAttempt attempt = context.getOrDefault(KEY, null);
        if (attempt != null) {
            attempt.channel = channel;
            if (attempt.abandoned) {
                attempt.closeIfConnecting(channel);
            }
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

    private void closeIfConnecting(Channel current) {
        if (current.isOpen() && !current.isActive()) {
            current.close();
        }
    }
}
