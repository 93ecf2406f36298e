package io.switchboard.testing;

import java.util.Map;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.MapPropertySource;

/** Points the gateway's providers at the shared fake upstream, started once per test JVM. */
public final class FakeUpstreamInitializer implements ApplicationContextInitializer<ConfigurableApplicationContext> {

    private static FakeUpstream shared;
    private static UnansweredConnectPort connecting;

    public static synchronized FakeUpstream shared() {
        if (shared == null) {
            shared = FakeUpstream.start();
            Runtime.getRuntime().addShutdownHook(new Thread(shared::close));
        }
        return shared;
    }

    /** The port behind provider {@code connecting}: a connect to it never completes. */
    public static synchronized UnansweredConnectPort connecting() {
        if (connecting == null) {
            connecting = UnansweredConnectPort.open();
            Runtime.getRuntime().addShutdownHook(new Thread(connecting::close));
        }
        return connecting;
    }

    @Override
    public void initialize(ConfigurableApplicationContext context) {
        FakeUpstream upstream = shared();
        context.getEnvironment()
                .getPropertySources()
                .addFirst(new MapPropertySource(
                        "fake-upstream",
                        Map.of(
                                "gateway.providers.openrouter.base-url",
                                upstream.baseUrl(),
                                "gateway.providers.strict.base-url",
                                upstream.baseUrl(),
                                "gateway.providers.connecting.base-url",
                                "http://127.0.0.1:" + connecting().port() + "/v1",
                                "gateway.providers.slowconnect.base-url",
                                "http://127.0.0.1:" + connecting().port() + "/v1",
                                // A fresh embedded database per test JVM: rows of an earlier run
                                // in the same target/ must not count in this one.
                                "gateway.storage.path",
                                "target/it-data/run-" + ProcessHandle.current().pid())));
    }
}
