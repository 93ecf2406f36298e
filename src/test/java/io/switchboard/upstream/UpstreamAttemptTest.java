package io.switchboard.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ConnectTimeoutException;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;
import org.junit.jupiter.api.Test;
import reactor.netty.http.client.PrematureCloseException;
import reactor.util.context.Context;

/** When a failed upstream call may be made again: only if the request was not written out whole. */
class UpstreamAttemptTest {

    private final UpstreamAttempt attempt = new UpstreamAttempt();

    @Test
    void aConnectionClosedBeforeTheRequestWasWrittenIsRetried() {
        assertThat(attempt.retryable(new ClosedChannelException())).isTrue();
    }

    @Test
    void aResetOrPrematureCloseBeforeTheWriteIsRetried() {
        assertThat(new UpstreamAttempt().retryable(new IOException("Connection reset by peer")))
                .isTrue();
        assertThat(new UpstreamAttempt().retryable(PrematureCloseException.TEST_EXCEPTION))
                .isTrue();
    }

    @Test
    void aRequestWrittenWholeIsNeverRetried() {
        UpstreamAttempt.written(attempt.into(Context.empty()));

        assertThat(attempt.retryable(new ClosedChannelException())).isFalse();
        assertThat(attempt.retryable(PrematureCloseException.TEST_EXCEPTION)).isFalse();
    }

    @Test
    void aFailedConnectIsNotRetried() {
        assertThat(attempt.retryable(new ConnectException("Connection refused")))
                .isFalse();
        assertThat(attempt.retryable(new ConnectTimeoutException("connection timed out")))
                .isFalse();
        assertThat(attempt.retryable(new IOException("something else"))).isFalse();
    }

    @Test
    void anAbandonedRequestIsNotRetried() {
        attempt.abandon();

        assertThat(attempt.retryable(new ClosedChannelException())).isFalse();
    }

    @Test
    void anotherRequestsWriteDoesNotCount() {
        UpstreamAttempt other = new UpstreamAttempt();
        UpstreamAttempt.written(other.into(Context.empty()));

        assertThat(attempt.retryable(new ClosedChannelException())).isTrue();
    }
}
