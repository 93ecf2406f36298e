package io.switchboard.errors;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import reactor.core.publisher.Operators;
import reactor.netty.channel.AbortedException;
import reactor.util.context.Context;

/** A dropped error from a closed connection stays out of the error log; any other is still there. */
@ExtendWith(OutputCaptureExtension.class)
class DroppedErrorsTest {

    @Test
    void closedOrResetConnectionsAreNotErrors(CapturedOutput output) {
        new DroppedErrors();
        Operators.onErrorDropped(new ClosedChannelException(), Context.empty());
        Operators.onErrorDropped(new AbortedException("Connection has been closed"), Context.empty());
        Operators.onErrorDropped(new IOException("Connection reset by peer"), Context.empty());
        assertThat(output.getOut()).doesNotContain("ERROR").doesNotContain("Exception");
    }

    @Test
    void anyOtherDroppedErrorIsStillLoggedWithItsStackTrace(CapturedOutput output) {
        new DroppedErrors();
        Operators.onErrorDropped(new IllegalStateException("a bug after the answer"), Context.empty());
        assertThat(output.getOut())
                .contains("ERROR")
                .contains("java.lang.IllegalStateException: a bug after the answer")
                .contains("at io.switchboard.errors.DroppedErrorsTest");
    }
}
