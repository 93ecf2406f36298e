package io.switchboard.operations;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The Compose stack, Prometheus, Grafana provisioning, the load balancer and the Dockerfile, read
 * the way Docker would read them (no Docker engine runs the tests).
 */
class ComposeStackTest {

    private static Map<String, Object> yaml(String file) throws IOException {
        try (Reader reader = Files.newBufferedReader(Path.of(file))) {
            return new Yaml(new SafeConstructor(new LoaderOptions())).load(reader);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value) {
        assertThat(value).isInstanceOf(Map.class);
        return (Map<String, Object>) value;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object value) {
        assertThat(value).isInstanceOf(List.class);
        return (List<Object>) value;
    }

    private static Map<String, Object> services() throws IOException {
        return map(yaml("docker-compose.yml").get("services"));
    }

    @Test
    void defaultStackRunsTheGatewayWithPostgresRedisPrometheusAndGrafana() throws IOException {
        Map<String, Object> services = services();
        assertThat(services).containsKeys("switchboard", "postgres", "redis", "prometheus", "grafana");
        for (String name : List.of("switchboard", "postgres", "redis", "prometheus", "grafana")) {
            assertThat(map(services.get(name))).as(name).doesNotContainKey("profiles");
        }
        Map<String, Object> gateway = map(services.get("switchboard"));
        assertThat(map(gateway.get("build"))).containsEntry("context", ".").containsEntry("dockerfile", "Dockerfile");
        assertThat(map(gateway.get("depends_on")))
                .containsEntry("postgres", Map.of("condition", "service_healthy"))
                .containsEntry("redis", Map.of("condition", "service_healthy"));
        Map<String, Object> env = map(gateway.get("environment"));
        assertThat(env.get("SPRING_R2DBC_URL")).asString().startsWith("r2dbc:postgresql://postgres:5432/");
        assertThat(env.get("GATEWAY_RATELIMIT_REDIS_URL")).isEqualTo("redis://redis:6379");
        assertThat(list(gateway.get("ports"))).containsExactly("8080:8080");
    }

    @Test
    void composeRunsTheGatewayWithTheImagesJvmFlagsUnlessTold() throws IOException {
        Object javaOpts =
                map(map(services().get("switchboard")).get("environment")).get("JAVA_OPTS");
        var compose = Pattern.compile("^\\$\\{JAVA_OPTS:-(.*)}$").matcher(String.valueOf(javaOpts));
        var image = Pattern.compile("(?m)^ENV JAVA_OPTS=\"([^\"]*)\"").matcher(Files.readString(Path.of("Dockerfile")));
        assertThat(compose.matches()).as("JAVA_OPTS: ${JAVA_OPTS:-<default>}").isTrue();
        assertThat(image.find()).as("ENV JAVA_OPTS in the Dockerfile").isTrue();
        // Compose sets the variable, so its default replaces the image's: the two must not drift.
        assertThat(compose.group(1)).isEqualTo(image.group(1));
    }

    @Test
    void everyServiceHasAHealthcheck() throws IOException {
        services().forEach((name, service) -> {
            Map<String, Object> healthcheck = map(map(service).get("healthcheck"));
            assertThat(list(healthcheck.get("test"))).as(name).isNotEmpty();
        });
        List<?> gatewayCheck = (List<?>)
                map(map(services().get("switchboard")).get("healthcheck")).get("test");
        assertThat(gatewayCheck.toString()).contains("/actuator/health");
    }

    @Test
    void secretsComeFromTheEnvironmentAndTheAdminKeyIsRequired() throws IOException {
        String compose = Files.readString(Path.of("docker-compose.yml"));
        assertThat(compose).contains("GATEWAY_ADMIN_KEY: ${GATEWAY_ADMIN_KEY:?");
        assertThat(compose).contains("OPENROUTER_API_KEY: ${OPENROUTER_API_KEY:-}");
        assertThat(compose).doesNotContainPattern("sk-or-v1-[A-Za-z0-9]").doesNotContainPattern("sk-gw-[A-Za-z0-9]");
    }

    @Test
    void scaleProfileRunsTwoReplicasBehindALoadBalancerSharingPostgresAndRedis() throws IOException {
        Map<String, Object> services = services();
        Map<String, Object> first = map(services.get("switchboard"));
        Map<String, Object> second = map(services.get("switchboard-2"));
        Map<String, Object> lb = map(services.get("lb"));
        assertThat(list(second.get("profiles"))).containsExactly("scale");
        assertThat(list(lb.get("profiles"))).containsExactly("scale");
        // Same image and the same database and Redis: one fleet, not two gateways.
        assertThat(second.get("build")).isEqualTo(first.get("build"));
        assertThat(second.get("environment")).isEqualTo(first.get("environment"));
        // While Redis is down each replica admits its share of a limit: the scale command says there are two.
        assertThat(map(first.get("environment")).get("GATEWAY_RATELIMIT_REPLICAS"))
                .isEqualTo("${GATEWAY_RATELIMIT_REPLICAS:-1}");
        assertThat(Files.readString(Path.of("docker-compose.yml")))
                .contains("GATEWAY_RATELIMIT_REPLICAS=2 docker compose --profile scale up");
        assertThat(map(lb.get("depends_on"))).containsKeys("switchboard", "switchboard-2");
        assertThat(lb.get("volumes").toString()).contains("./ops/nginx/nginx.conf:/etc/nginx/nginx.conf");

        String nginx = Files.readString(Path.of("ops/nginx/nginx.conf"));
        assertThat(nginx).contains("server switchboard:8080", "server switchboard-2:8080");
        // Streams pass through unbuffered and are not cut by the proxy's default 60 s read timeout.
        assertThat(nginx).contains("proxy_buffering off;", "proxy_http_version 1.1;", "proxy_read_timeout 600s;");
    }

    @Test
    void namedVolumesAreDeclaredAndMountedFilesExist() throws IOException {
        Map<String, Object> compose = yaml("docker-compose.yml");
        Map<String, Object> volumes = map(compose.get("volumes"));
        for (Map.Entry<String, Object> service : services().entrySet()) {
            Object mounts = map(service.getValue()).get("volumes");
            if (mounts == null) {
                continue;
            }
            for (Object mount : list(mounts)) {
                String source = mount.toString().split(":")[0];
                if (source.startsWith("./")) {
                    assertThat(Path.of(source))
                            .as("%s mounts %s", service.getKey(), source)
                            .exists();
                } else {
                    assertThat(volumes)
                            .as("%s uses volume %s", service.getKey(), source)
                            .containsKey(source);
                }
            }
        }
        assertThat(volumes).containsKeys("postgres-data", "redis-data", "prometheus-data", "grafana-data");
        // Each replica's journal and spill file outlive its container, and replicas never share them.
        assertThat(map(services().get("switchboard")).get("volumes").toString()).contains("switchboard-data:/app/data");
        assertThat(map(services().get("switchboard-2")).get("volumes").toString())
                .contains("switchboard-2-data:/app/data");
    }

    @Test
    void prometheusScrapesEveryReplicaAtTheActuatorEndpoint() throws IOException {
        List<Object> jobs = list(yaml("ops/prometheus/prometheus.yml").get("scrape_configs"));
        Map<String, Object> job = jobs.stream()
                .map(ComposeStackTest::map)
                .filter(j -> "switchboard".equals(j.get("job_name")))
                .findFirst()
                .orElseThrow();
        assertThat(job).containsEntry("metrics_path", "/actuator/prometheus");
        List<Object> targets = list(map(list(job.get("static_configs")).get(0)).get("targets"));
        assertThat(targets).containsExactlyInAnyOrder("switchboard:8080", "switchboard-2:8080");
    }

    @Test
    void grafanaProvisionsThePrometheusDataSourceAndTheDashboard() throws IOException {
        Map<String, Object> datasource = map(
                list(yaml("ops/grafana/provisioning/datasources/prometheus.yml").get("datasources"))
                        .get(0));
        assertThat(datasource)
                .containsEntry("type", "prometheus")
                .containsEntry("uid", "prometheus")
                .containsEntry("url", "http://prometheus:9090");
        Map<String, Object> provider = map(
                list(yaml("ops/grafana/provisioning/dashboards/switchboard.yml").get("providers"))
                        .get(0));
        String path = map(provider.get("options")).get("path").toString();
        Map<String, Object> grafana = map(services().get("grafana"));
        assertThat(grafana.get("volumes").toString()).contains("./ops/grafana/dashboards:" + path);
        assertThat(Path.of("ops/grafana/dashboards/switchboard.json")).exists();
        // The dashboard's data-source variable defaults to the provisioned uid.
        assertThat(GrafanaDashboard.load()
                        .root()
                        .path("templating")
                        .path("list")
                        .get(0)
                        .path("current")
                        .path("value")
                        .asString())
                .isEqualTo(datasource.get("uid"));
    }

    @Test
    void dockerfileBuildsWithTheWrapperAndRunsLayeredAsNonRootWithAHealthcheck() throws IOException {
        String dockerfile = Files.readString(Path.of("Dockerfile"));
        List<String> stages = Pattern.compile("(?m)^FROM\\s+(\\S+)")
                .matcher(dockerfile)
                .results()
                .map(m -> m.group(1))
                .toList();
        assertThat(stages).hasSize(2);
        // Java 25 or later at run time: compact object headers (below) exist from 25 on.
        assertThat(stages.get(1)).matches("eclipse-temurin:(2[5-9]|[3-9][0-9])-jre.*");
        assertThat(dockerfile)
                .contains(
                        "./mvnw -B",
                        "-Djarmode=tools",
                        "extract --layers",
                        "COPY --from=build /layers/dependencies/",
                        "COPY --from=build /layers/application/",
                        "$JAVA_OPTS",
                        // The flags the README's figures were measured with: the collector, smaller
                        // objects, and Netty's use of Unsafe, which Java 25 turns off unless allowed.
                        "-XX:+UseParallelGC",
                        "-XX:+UseCompactObjectHeaders",
                        "--sun-misc-unsafe-memory-access=allow");
        assertThat(dockerfile).containsPattern("(?m)^USER (?!root|0\\b)\\S+");
        assertThat(dockerfile).containsPattern("(?m)^HEALTHCHECK .*\\n?.*/actuator/health");
        // No secret is baked into an image layer.
        assertThat(dockerfile).doesNotContainPattern("(?mi)^(ENV|ARG)\\s+.*(API_KEY|ADMIN_KEY|PASSWORD|SECRET|PEPPER)");
        assertThat(Files.readString(Path.of(".dockerignore"))).contains("target/", ".git/", ".env");
    }
}
