package io.switchboard.testing;

import io.switchboard.SwitchboardApplication;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A whole gateway started in the test JVM on a free port, for tests that need several replicas or a
 * restart; closing it is a graceful shutdown, like a real deployment. Settings are passed as
 * command-line arguments so they win over application.yml. The gateway owns its Netty event loops
 * (UpstreamConfiguration), so closing one instance never tears down another server of this JVM.
 */
public final class GatewayInstance implements AutoCloseable {

    private final ConfigurableApplicationContext context;
    private final TestGateway gateway;

    private GatewayInstance(ConfigurableApplicationContext context) {
        this.context = context;
        this.gateway = new TestGateway(
                ((WebServerApplicationContext) context).getWebServer().getPort());
    }

    /**
     * A gateway with exactly these settings, its default upstream on a closed loopback port unless
     * one is given, and a usage journal of its own.
     */
    public static GatewayInstance start(Map<String, String> settings) {
        Map<String, String> all = new LinkedHashMap<>();
        all.put("server.port", "0");
        // No network in tests: the default upstream points at a closed loopback port.
        all.put("gateway.providers.openrouter.base-url", "http://127.0.0.1:9/api/v1");
        // Replicas of one test may share a storage directory: one journal each.
        all.put("gateway.usage.journal.path", "target/journal-" + UUID.randomUUID() + ".log");
        // An embedded database and spill file of its own, never ./data: a gateway a developer runs
        // from the same directory (./mvnw spring-boot:run) holds that database's file.
        String own = UUID.randomUUID().toString();
        all.put("gateway.storage.path", "target/storage-" + own);
        all.put("gateway.usage.spill-file", "target/spill-" + own + ".jsonl");
        all.putAll(settings);
        List<String> args = new ArrayList<>();
        all.forEach((name, value) -> args.add("--" + name + "=" + value));
        return new GatewayInstance(
                new SpringApplicationBuilder(SwitchboardApplication.class).run(args.toArray(String[]::new)));
    }

    /**
     * A replica whose {@code openrouter} provider is {@code upstreamBaseUrl} (with the test upstream
     * key), whose ledger is the in-memory H2 database {@code database} (replicas given the same name
     * share it), with the test client and admin keys; {@code properties} are {@code name=value} pairs
     * that override these.
     */
    public static GatewayInstance replica(String upstreamBaseUrl, String database, String... properties) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("spring.r2dbc.url", "r2dbc:h2:mem:///" + database + "?options=DB_CLOSE_DELAY=-1");
        settings.put("spring.r2dbc.username", "sa");
        settings.put("spring.flyway.url", "jdbc:h2:mem:" + database + ";DB_CLOSE_DELAY=-1");
        settings.put("spring.flyway.user", "sa");
        settings.put("gateway.usage.spill-file", "target/spill-" + database + "-" + UUID.randomUUID() + ".jsonl");
        settings.putAll(upstreamAndKeys(upstreamBaseUrl));
        settings.put("gateway.usage.flush-interval", "50ms");
        settings.put("spring.lifecycle.timeout-per-shutdown-phase", "10s");
        for (String property : properties) {
            int equals = property.indexOf('=');
            settings.put(property.substring(0, equals), property.substring(equals + 1));
        }
        return start(settings);
    }

    /**
     * The settings every test gateway of a fake upstream needs: the {@code openrouter} provider at
     * {@code upstreamBaseUrl} with the test upstream key, no price fetch, the test client and admin keys.
     */
    public static Map<String, String> upstreamAndKeys(String upstreamBaseUrl) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("gateway.providers.openrouter.base-url", upstreamBaseUrl);
        settings.put("gateway.providers.openrouter.api-key", TestGateway.UPSTREAM_KEY);
        settings.put("gateway.usage.fetch-pricing", "false");
        settings.put("gateway.keys.static[0].name", "test-client");
        settings.put("gateway.keys.static[0].secret", TestGateway.CLIENT_KEY);
        settings.put("gateway.admin.key", TestGateway.ADMIN_KEY);
        return settings;
    }

    public int port() {
        return ((WebServerApplicationContext) context).getWebServer().getPort();
    }

    public TestGateway gateway() {
        return gateway;
    }

    public <T> T bean(Class<T> type) {
        return context.getBean(type);
    }

    /**
     * Closes the gateway gracefully. With its caller's interrupt flag set, Spring Boot's graceful
     * shutdown would never end: its wait sleeps, the sleep throws at once, and it sets the flag
     * again and loops (seen once in CI: a test hung 12 minutes in {@code GracefulShutdown.abort}).
     * So the flag is put aside for the close and set again after it.
     */
    @Override
    public void close() {
        boolean interrupted = Thread.interrupted();
        try {
            context.close();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
