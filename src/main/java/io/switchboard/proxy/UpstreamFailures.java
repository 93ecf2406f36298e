package io.switchboard.proxy;

import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.timeout.ReadTimeoutException;
import io.switchboard.errors.ErrorCode;
import io.switchboard.errors.GatewayException;
import io.switchboard.exchange.ExchangeOutcome;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.util.concurrent.TimeoutException;
import reactor.netty.http.client.PrematureCloseException;

/**
 * Names what went wrong with an upstream in words safe for a client: never the upstream's host,
 * address, credential or exception text.
 */
final class UpstreamFailures {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(UpstreamFailures.class);

    private UpstreamFailures() {}

    /** A failure before the upstream's status arrived: 504 for time, 502 for the rest. */
    static GatewayException beforeHeaders(Throwable error) {
        if (log.isDebugEnabled()) {
            log.debug("upstream failure before headers", error);
        }
        if (error instanceof GatewayException gateway) {
            return gateway;
        }
        if (error instanceof TimeoutException || error instanceof ReadTimeoutException) {
            return GatewayException.of(ErrorCode.UPSTREAM_TIMEOUT, "The upstream did not answer in time.");
        }
        // A timeout too (issue 2's connect-timeout is one of the provider's 504s), unlike a refusal.
        if (error instanceof ConnectTimeoutException) {
            return GatewayException.of(ErrorCode.UPSTREAM_TIMEOUT, "The upstream did not accept a connection in time.");
        }
        if (error instanceof ConnectException
                || error instanceof UnknownHostException
                || error.getCause() instanceof ConnectException) {
            return GatewayException.of(ErrorCode.UPSTREAM_UNREACHABLE, "The upstream could not be reached.");
        }
        if (error instanceof PrematureCloseException) {
            return GatewayException.of(
                    ErrorCode.UPSTREAM_ERROR, "The upstream closed the connection before answering.");
        }
        // Not one of the kinds above: its class and Netty's text (socket errors, never headers, so
        // never a credential) go to the operator's log, so that a rare one can be told apart.
        log.info("Upstream failure of an unclassified kind before headers: {}", error.toString());
        return GatewayException.of(ErrorCode.UPSTREAM_ERROR, "The upstream connection failed.");
    }

    static ExchangeOutcome outcomeBeforeHeaders(GatewayException error) {
        ExchangeOutcome.Kind kind = error.code() == ErrorCode.UPSTREAM_TIMEOUT
                ? ExchangeOutcome.Kind.UPSTREAM_TIMEOUT
                : ExchangeOutcome.Kind.UPSTREAM_UNREACHABLE;
        return new ExchangeOutcome(kind, error.code().status().value(), error.getMessage());
    }

    /** A failure after the status was sent: the stream is cut with this error. */
    static GatewayException midway(Throwable error) {
        if (error instanceof GatewayException gateway) {
            return gateway;
        }
        if (error instanceof ReadTimeoutException) {
            return GatewayException.of(
                    ErrorCode.UPSTREAM_TIMEOUT, "The upstream went silent for longer than its idle timeout.");
        }
        return GatewayException.of(ErrorCode.UPSTREAM_ERROR, "The upstream connection was lost mid-answer.");
    }
}
