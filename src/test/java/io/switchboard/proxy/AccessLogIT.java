package io.switchboard.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.testing.FakeUpstream;
import io.switchboard.testing.FakeUpstreamInitializer;
import io.switchboard.testing.GatewayIntegrationTest;
import io.switchboard.testing.RawHttp;
import io.switchboard.testing.TestGateway;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * The access log: one line per request on the console, written by the asynchronous appender's own
 * thread a few milliseconds later, yet saying what the request's own thread knew.
 */
@GatewayIntegrationTest
@ExtendWith(OutputCaptureExtension.class)
class AccessLogIT {

    @LocalServerPort
    int port;

    FakeUpstream upstream = FakeUpstreamInitializer.shared();

    @Test
    void eachRequestGetsOneLineWithItsIdStatusModelAndKeyAndNoSecret(CapturedOutput output) {
        upstream.reset();
        String id = "access-log-" + System.nanoTime();
        String answer = RawHttp.post(
                port,
                "/v1/chat/completions",
                "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                "Authorization: Bearer " + TestGateway.clientKey,
                "X-Request-Id: " + id,
                "Connection: close");
        assertThat(answer).startsWith("HTTP/1.1 200");

        String line = Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .until(() -> accessLine(output, id), Optional::isPresent)
                .orElseThrow();

        assertThat(line)
                .contains(id + " POST /v1/chat/completions 200 ")
                .contains(" model=openai/gpt-5-nano")
                // The name of the caller's key (the static key of GatewayIntegrationTest), never its secret.
                .endsWith(" key=test-client");
        // The thread that served the request, not the appender's writer.
        assertThat(line).doesNotContain("logback-appender");
        assertThat(output.getAll()).doesNotContain(TestGateway.clientKey).doesNotContain(TestGateway.UPSTREAM_KEY);
        assertThat(lines(output).stream().filter(l -> l.contains(id) && l.contains("io.switchboard.access")))
                .hasSize(1);
    }

    private static Optional<String> accessLine(CapturedOutput output, String id) {
        return lines(output).stream()
                .filter(l -> l.contains("io.switchboard.access") && l.contains(id))
                .findFirst();
    }

    private static List<String> lines(CapturedOutput output) {
        return Arrays.asList(output.getOut().split("\\R"));
    }
}
