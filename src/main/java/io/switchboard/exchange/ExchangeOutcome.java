package io.switchboard.exchange;

import org.jspecify.annotations.Nullable;

/**
 * How a relayed exchange ended, reported exactly once to every {@link ExchangeObserver}.
 *
 * @param kind what happened
 * @param status the HTTP status the client got (0 when the client left before any status)
 * @param detail a short, secret-free description of a failure, or null
 */
public record ExchangeOutcome(
        Kind kind, int status, @Nullable String detail) {

    public enum Kind {
        /** The upstream answered 2xx and the whole answer reached the client. */
        COMPLETED,
        /** The upstream answered with its own error status, passed through. */
        UPSTREAM_ERROR_STATUS,
        /** The client went away before the answer was complete. */
        CLIENT_CLOSED,
        /** No answer: connection refused, reset before headers, malformed answer (502). */
        UPSTREAM_UNREACHABLE,
        /** No response headers within the response timeout (504). */
        UPSTREAM_TIMEOUT,
        /** The upstream failed after the status was sent: reset or idle timeout mid-answer. */
        UPSTREAM_FAILED_MIDWAY,
        /** The gateway is shutting down and cut the exchange. */
        INTERRUPTED
    }
}
