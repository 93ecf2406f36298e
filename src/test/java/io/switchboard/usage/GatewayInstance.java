package io.switchboard.usage;

import io.switchboard.SwitchboardApplication;
import io.switchboard.testing.TestGateway;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * One gateway replica started by a test (several may share a database and a Redis), stopped with a
 * graceful shutdown like a real deployment.
 */
public final class GatewayInstance implements AutoCloseable {

    private final ConfigurableApplicationContext context;
    private final TestGateway client;

    private GatewayInstance(ConfigurableApplicationContext context) {
        this.context = context;
        this.client = new TestGateway(
                ((WebServerApplicationContext) context).getWebServer().getPort());
    }

    /**
     * Starts a replica whose {@code openrouter} provider is {@code upstreamBaseUrl} and whose ledger is
     * the in-memory H2 database {@code database} (replicas given the same name share it).
     */
    public static GatewayInstance start(String upstreamBaseUrl, String database, String... properties) {
        List<String> all = new ArrayList<>(List.of(
                "server.port=0",
                "spring.r2dbc.url=r2dbc:h2:mem:///" + database + "?options=DB_CLOSE_DELAY=-1",
                "spring.r2dbc.username=sa",
                "spring.flyway.url=jdbc:h2:mem:" + database + ";DB_CLOSE_DELAY=-1",
                "spring.flyway.user=sa",
                "gateway.usage.spill-file=target/spill-" + database + "-" + java.util.UUID.randomUUID() + ".jsonl",
                "gateway.providers.openrouter.base-url=" + upstreamBaseUrl,
                "gateway.providers.openrouter.api-key=" + TestGateway.UPSTREAM_KEY,
                "gateway.usage.fetch-pricing=false",
                "gateway.keys.static[0].name=test-client",
                "gateway.keys.static[0].secret=" + TestGateway.CLIENT_KEY,
                "gateway.admin.key=" + TestGateway.ADMIN_KEY,
                "gateway.usage.flush-interval=50ms",
                "spring.lifecycle.timeout-per-shutdown-phase=10s"));
        all.addAll(List.of(properties));
        // As command-line arguments: they must win over application.yml (default properties would not).
        // The gateway owns its Netty event loops (UpstreamConfiguration), so closing one replica
        // never tears down another server of this JVM.
        ConfigurableApplicationContext context = new SpringApplicationBuilder(SwitchboardApplication.class)
                .run(all.stream().map(p -> "--" + p).toArray(String[]::new));
        return new GatewayInstance(context);
    }

    public TestGateway client() {
        return client;
    }

    public <T> T bean(Class<T> type) {
        return context.getBean(type);
    }

    @Override
    public void close() {
        context.close();
    }
}
