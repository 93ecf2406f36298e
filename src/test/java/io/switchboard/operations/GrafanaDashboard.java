package io.switchboard.operations;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The provisioned Grafana dashboard as the tests read it: its panels and the PromQL they run. */
record GrafanaDashboard(JsonNode root) {

    static final Path FILE = Path.of("ops/grafana/dashboards/switchboard.json");

    /** Every metric issue 4 promises, by its Prometheus name. */
    static final Set<String> GATEWAY_METRICS = Set.of(
            "switchboard_requests_total",
            "switchboard_request_duration_seconds",
            "switchboard_time_to_first_token_seconds",
            "switchboard_tokens_total",
            "switchboard_cost_usd_total",
            "switchboard_ratelimit_rejections_total",
            "switchboard_upstream_errors_total",
            "switchboard_active_streams",
            "switchboard_usage_queue_depth");

    private static final Pattern METRIC = Pattern.compile("\\bswitchboard_[a-z0-9_]+");
    private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"");
    private static final Pattern GROUPING = Pattern.compile("\\b(?:by|without)\\s*\\(([^)]*)\\)");
    private static final Pattern MATCHER = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(?:=~|!~|!=|=)\\s*$");
    private static final Pattern LABEL_VALUES =
            Pattern.compile("label_values\\(\\s*([a-z0-9_]+)\\s*,\\s*([a-zA-Z_][a-zA-Z0-9_]*)\\s*\\)");

    /** One query and where it comes from (panel title or template variable). */
    record Query(String origin, String expr) {

        /** The metric names in the query, as scraped: {@code _bucket} series named as such. */
        Set<String> metrics() {
            Set<String> names = new TreeSet<>();
            Matcher m = METRIC.matcher(withoutStrings());
            while (m.find()) {
                names.add(m.group());
            }
            return names;
        }

        /** Label names the query groups by or matches on; each must exist on its metrics. */
        Set<String> labels() {
            Set<String> labels = new TreeSet<>();
            String code = withoutStrings();
            Matcher grouping = GROUPING.matcher(code);
            while (grouping.find()) {
                for (String label : grouping.group(1).split(",")) {
                    if (!label.isBlank()) {
                        labels.add(label.strip());
                    }
                }
            }
            // A matcher is `label op "value"`: find each string and look at what precedes it.
            Matcher string = STRING.matcher(expr);
            while (string.find()) {
                Matcher matcher = MATCHER.matcher(expr.substring(0, string.start()));
                if (matcher.find()) {
                    labels.add(matcher.group(1));
                }
            }
            Matcher values = LABEL_VALUES.matcher(expr);
            while (values.find()) {
                labels.add(values.group(2));
            }
            // Prometheus adds these itself (le is the histogram's own bucket label).
            labels.removeAll(Set.of("le", "instance", "job"));
            return labels;
        }

        private String withoutStrings() {
            return STRING.matcher(expr).replaceAll("\"\"");
        }
    }

    static GrafanaDashboard load() throws IOException {
        return new GrafanaDashboard(JsonMapper.builder().build().readTree(Files.readString(FILE)));
    }

    List<JsonNode> panels() {
        List<JsonNode> panels = new ArrayList<>();
        for (JsonNode panel : root.path("panels")) {
            panels.add(panel);
            panel.path("panels").forEach(panels::add);
        }
        return panels;
    }

    List<JsonNode> dataPanels() {
        return panels().stream()
                .filter(p -> !"row".equals(p.path("type").asString()))
                .toList();
    }

    List<Query> queries() {
        List<Query> queries = new ArrayList<>();
        for (JsonNode panel : dataPanels()) {
            for (JsonNode target : panel.path("targets")) {
                queries.add(new Query(
                        panel.path("title").asString(), target.path("expr").asString("")));
            }
        }
        for (JsonNode variable : root.path("templating").path("list")) {
            if ("query".equals(variable.path("type").asString())) {
                JsonNode query = variable.path("query");
                String expr = query.isObject() ? query.path("query").asString("") : query.asString("");
                queries.add(new Query("variable $" + variable.path("name").asString(), expr));
            }
        }
        return queries;
    }
}
