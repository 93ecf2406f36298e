package io.switchboard.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** The timeout without Reactor's per-subscription naming still behaves as Reactor's own timeout. */
class TimeoutsTest {

    @Test
    void aCallThatDoesNotAnswerInTimeIsCancelledAndFailsWithATimeout() {
        AtomicBoolean cancelled = new AtomicBoolean();
        StepVerifier.withVirtualTime(() ->
                        Timeouts.within(Mono.never().doOnCancel(() -> cancelled.set(true)), Duration.ofMillis(250)))
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(249))
                .thenAwait(Duration.ofMillis(1))
                .expectErrorSatisfies(error ->
                        assertThat(error).isInstanceOf(TimeoutException.class).hasMessageContaining("PT0.25S"))
                .verify(Duration.ofSeconds(5));
        assertThat(cancelled).isTrue();
    }

    @Test
    void anAnswerInTimeAndAnErrorInTimePassThrough() {
        StepVerifier.withVirtualTime(() ->
                        Timeouts.within(Mono.delay(Duration.ofMillis(100)).map(tick -> "ok"), Duration.ofMillis(250)))
                .thenAwait(Duration.ofMillis(100))
                .expectNext("ok")
                .verifyComplete();
        StepVerifier.create(Timeouts.within(Mono.error(new IllegalStateException("refused")), Duration.ofSeconds(1)))
                .expectErrorMessage("refused")
                .verify(Duration.ofSeconds(5));
    }
}
