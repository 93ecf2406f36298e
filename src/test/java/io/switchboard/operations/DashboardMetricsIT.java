package io.switchboard.operations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.OpenAIServiceException;
import com.openai.errors.RateLimitException;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.switchboard.testing.AdminKeysClient;
import io.switchboard.testing.HttpText;
import io.switchboard.testing.RunningGateway;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.web.reactive.server.WebTestClient;

/**
 * Every query of the Grafana dashboard names a metric, and labels, that the running gateway really
 * exports after real traffic of every kind: streamed and not, an upstream failure, a rate-limited
 * request.
 */
@RunningGateway
class DashboardMetricsIT {

    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})?\\s");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"(?:[^\"\\\\]|\\\\.)*\"");

    @LocalServerPort
    int port;

    @Autowired
    WebTestClient http;

    @Test
    void everyDashboardQueryUsesMetricsAndLabelsTheGatewayExportsAfterTraffic() throws IOException {
        AdminKeysClient admin = new AdminKeysClient(http);
        AdminKeysClient.CreatedKey busy = admin.createKey(Map.of("name", "dashboard-busy"));
        AdminKeysClient.CreatedKey limited = admin.createKey(Map.of("name", "dashboard-limited", "rpm", 1));
        OpenAIClient client = client(busy.secret());
        OpenAIClient limitedClient = client(limited.secret());
        try {
            client.chat().completions().create(chat("demo/chat"));
            try (StreamResponse<ChatCompletionChunk> stream =
                    client.chat().completions().createStreaming(chat("demo/mini"))) {
                assertThat(stream.stream().count()).isPositive();
            }
            assertThatThrownBy(() -> client.chat().completions().create(chat("demo/error")))
                    .isInstanceOf(OpenAIServiceException.class);
            limitedClient.chat().completions().create(chat("demo/chat"));
            assertThatThrownBy(() -> limitedClient.chat().completions().create(chat("demo/chat")))
                    .isInstanceOf(RateLimitException.class);
        } finally {
            client.close();
            limitedClient.close();
        }

        GrafanaDashboard dashboard = GrafanaDashboard.load();
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            Map<String, Set<String>> exported = scrape();
            List<String> problems = new ArrayList<>();
            for (GrafanaDashboard.Query query : dashboard.queries()) {
                Set<String> labels = new TreeSet<>();
                for (String metric : query.metrics()) {
                    if (exported.containsKey(metric)) {
                        labels.addAll(exported.get(metric));
                    } else {
                        problems.add(
                                "panel '" + query.origin() + "' uses metric " + metric + ", which is not exported");
                    }
                }
                for (String label : query.labels()) {
                    if (!labels.contains(label) && query.metrics().stream().allMatch(exported::containsKey)) {
                        problems.add("panel '" + query.origin() + "' uses label '" + label + "', which "
                                + query.metrics() + " do not carry (they carry " + labels + ")");
                    }
                }
            }
            assertThat(problems)
                    .as(
                            "dashboard queries against /actuator/prometheus (exported switchboard metrics: %s)",
                            exported.keySet().stream()
                                    .filter(m -> m.startsWith("switchboard_"))
                                    .toList())
                    .isEmpty();
        });
    }

    /** Metric name to the label names seen on its samples. */
    private Map<String, Set<String>> scrape() {
        String text = HttpText.get(http, "/actuator/prometheus");
        Map<String, Set<String>> metrics = new TreeMap<>();
        for (String line : text.split("\n")) {
            Matcher sample = SAMPLE.matcher(line);
            if (line.startsWith("#") || !sample.find()) {
                continue;
            }
            Set<String> labels = metrics.computeIfAbsent(sample.group(1), m -> new TreeSet<>());
            if (sample.group(2) != null) {
                Matcher label = LABEL.matcher(sample.group(2));
                while (label.find()) {
                    labels.add(label.group(1));
                }
            }
        }
        return metrics;
    }

    private OpenAIClient client(String key) {
        return OpenAIOkHttpClient.builder()
                .baseUrl("http://127.0.0.1:" + port + "/v1")
                .apiKey(key)
                .maxRetries(0)
                .timeout(Duration.ofSeconds(20))
                .build();
    }

    private static ChatCompletionCreateParams chat(String model) {
        return ChatCompletionCreateParams.builder()
                .model(model)
                .addUserMessage("How is the dashboard?")
                .build();
    }
}
