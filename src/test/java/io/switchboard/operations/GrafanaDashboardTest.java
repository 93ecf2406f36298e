package io.switchboard.operations;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The dashboard JSON is well formed, covers what operators need, and asks only for real metrics. */
class GrafanaDashboardTest {

    private final GrafanaDashboard dashboard = load();

    private static GrafanaDashboard load() {
        try {
            return GrafanaDashboard.load();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void queryReaderFindsMetricsAndLabelsButNotStringContents() {
        GrafanaDashboard.Query query = new GrafanaDashboard.Query(
                "sample",
                "sum by (key, model) (rate(switchboard_tokens_total{type=~\"prompt|switchboard_fake\", key!=\"x\"}[5m]))"
                        + " / histogram_quantile(0.5, sum by (le) (rate(switchboard_request_duration_seconds_bucket[5m])))");
        assertThat(query.metrics())
                .containsExactly("switchboard_request_duration_seconds_bucket", "switchboard_tokens_total");
        assertThat(query.labels()).containsExactly("key", "model", "type");
    }

    @Test
    void hasAStableUidATitleAndUniquePanelIds() {
        assertThat(dashboard.root().path("uid").asString()).isEqualTo("switchboard-overview");
        assertThat(dashboard.root().path("title").asString()).isEqualTo("Switchboard");
        List<Integer> ids =
                dashboard.panels().stream().map(p -> p.path("id").asInt()).toList();
        assertThat(ids).doesNotHaveDuplicates().doesNotContain(0);
    }

    @Test
    void panelsFitTheTwentyFourColumnGridWithoutOverlapping() {
        List<int[]> boxes = new ArrayList<>();
        for (JsonNode panel : dashboard.panels()) {
            JsonNode grid = panel.path("gridPos");
            int x = grid.path("x").asInt(-1), y = grid.path("y").asInt(-1);
            int w = grid.path("w").asInt(0), h = grid.path("h").asInt(0);
            assertThat(x).as("x of %s", panel.path("title")).isNotNegative();
            assertThat(y).as("y of %s", panel.path("title")).isNotNegative();
            assertThat(w).as("width of %s", panel.path("title")).isPositive();
            assertThat(h).as("height of %s", panel.path("title")).isPositive();
            assertThat(x + w).as("right edge of %s", panel.path("title")).isLessThanOrEqualTo(24);
            for (int[] other : boxes) {
                boolean overlap =
                        x < other[0] + other[2] && other[0] < x + w && y < other[1] + other[3] && other[1] < y + h;
                assertThat(overlap)
                        .as("%s overlaps another panel", panel.path("title"))
                        .isFalse();
            }
            boxes.add(new int[] {x, y, w, h});
        }
    }

    @Test
    void everyDataPanelQueriesTheProvisionedPrometheusWithAUnit() {
        assertThat(dashboard.dataPanels()).hasSizeGreaterThanOrEqualTo(12);
        for (JsonNode panel : dashboard.dataPanels()) {
            String title = panel.path("title").asString();
            assertThat(panel.path("datasource").path("type").asString())
                    .as(title)
                    .isEqualTo("prometheus");
            assertThat(panel.path("targets").size()).as("queries of %s", title).isPositive();
            assertThat(panel.path("fieldConfig").path("defaults").path("unit").asString())
                    .as("unit of %s", title)
                    .isNotBlank();
            for (JsonNode target : panel.path("targets")) {
                assertThat(target.path("expr").asString())
                        .as("query of %s", title)
                        .isNotBlank();
                assertThat(target.path("refId").asString())
                        .as("refId in %s", title)
                        .isNotBlank();
            }
        }
    }

    @Test
    void everyQueryNamesOnlyMetricsTheGatewayExports() {
        for (GrafanaDashboard.Query query : dashboard.queries()) {
            assertThat(query.metrics())
                    .as("metrics of %s: %s", query.origin(), query.expr())
                    .isNotEmpty();
            for (String metric : query.metrics()) {
                assertThat(GrafanaDashboard.GATEWAY_METRICS)
                        .as("%s in %s", metric, query.origin())
                        .contains(metric.replaceFirst("_bucket$", ""));
            }
        }
    }

    @Test
    void everyGatewayMetricAppearsOnTheDashboard() {
        Set<String> used = new TreeSet<>();
        dashboard.queries().forEach(q -> q.metrics().forEach(m -> used.add(m.replaceFirst("_bucket$", ""))));
        assertThat(used).containsAll(GrafanaDashboard.GATEWAY_METRICS);
    }

    @Test
    void latencyPanelsComputePercentilesFromHistogramBuckets() {
        Pattern quantile = Pattern.compile(
                "histogram_quantile\\(0\\.(5|95|99),\\s*sum by \\(le\\) \\(rate\\(switchboard_[a-z_]+_seconds_bucket");
        for (String metric :
                List.of("switchboard_request_duration_seconds", "switchboard_time_to_first_token_seconds")) {
            List<String> exprs = dashboard.queries().stream()
                    .map(GrafanaDashboard.Query::expr)
                    .filter(e -> e.contains(metric))
                    .toList();
            assertThat(exprs)
                    .as(metric)
                    .isNotEmpty()
                    .allMatch(e -> quantile.matcher(e).find() && e.contains(metric + "_bucket"));
            assertThat(String.join("\n", exprs))
                    .contains("histogram_quantile(0.5,", "histogram_quantile(0.95,", "histogram_quantile(0.99,");
        }
    }

    @Test
    void operatorsFindEveryPanelTheIssueAsksFor() {
        List<String> titles = dashboard.dataPanels().stream()
                .map(p -> p.path("title").asString())
                .toList();
        assertThat(titles)
                .contains(
                        "Requests / s by status",
                        "Error rate",
                        "Latency p50 / p95 / p99",
                        "Time to first token p50 / p95 / p99",
                        "Tokens / s by key",
                        "Tokens / s by model",
                        "Cost by key (USD / hour)",
                        "Cost by model (USD / hour)",
                        "Rate-limit rejections / s",
                        "Active streams",
                        "Usage queue depth");
    }
}
