package io.switchboard.testing;

import io.switchboard.SwitchboardApplication;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A whole gateway started in the test JVM on a free port, for tests that need several replicas or a
 * restart. Settings are passed as command-line arguments so they win over application.yml.
 */
public final class GatewayInstance implements AutoCloseable {

    private final ConfigurableApplicationContext context;

    private GatewayInstance(ConfigurableApplicationContext context) {
        this.context = context;
    }

    public static GatewayInstance start(Map<String, String> settings) {
        List<String> args = new ArrayList<>();
        args.add("--server.port=0");
        if (!settings.containsKey("gateway.providers.openrouter.base-url")) {
            // No network in tests: the default upstream points at a closed loopback port.
            args.add("--gateway.providers.openrouter.base-url=http://127.0.0.1:9/api/v1");
        }
        settings.forEach((name, value) -> args.add("--" + name + "=" + value));
        return new GatewayInstance(
                new SpringApplicationBuilder(SwitchboardApplication.class).run(args.toArray(String[]::new)));
    }

    public int port() {
        return ((WebServerApplicationContext) context).getWebServer().getPort();
    }

    public TestGateway gateway() {
        return new TestGateway(port());
    }

    public <T> T bean(Class<T> type) {
        return context.getBean(type);
    }

    @Override
    public void close() {
        context.close();
    }
}
