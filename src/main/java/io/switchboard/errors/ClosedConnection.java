package io.switchboard.errors;

import java.nio.channels.ClosedChannelException;
import reactor.netty.channel.AbortedException;
import reactor.netty.http.client.PrematureCloseException;

/** Whether an error only says that a connection closed under an exchange: closed, closed early or reset. */
public final class ClosedConnection {

    private ClosedConnection() {}

    public static boolean is(Throwable error) {
        return error instanceof ClosedChannelException
                || error instanceof PrematureCloseException
                || AbortedException.isConnectionReset(error);
    }
}
