package io.switchboard.testing;

import java.util.Map;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.MapPropertySource;

/** Points the gateway's providers at the shared fake upstream, started once per test JVM. */
public final class FakeUpstreamInitializer implements ApplicationContextInitializer<ConfigurableApplicationContext> {

    private static FakeUpstream shared;

    public static synchronized FakeUpstream shared() {
        if (shared == null) {
            shared = FakeUpstream.start();
            Runtime.getRuntime().addShutdownHook(new Thread(shared::close));
        }
        return shared;
    }

    @Override
    public void initialize(ConfigurableApplicationContext context) {
        FakeUpstream upstream = shared();
        context.getEnvironment()
                .getPropertySources()
                .addFirst(new MapPropertySource(
                        "fake-upstream",
                        Map.of(
                                "gateway.providers.openrouter.base-url", upstream.baseUrl(),
                                "gateway.providers.strict.base-url", upstream.baseUrl(),
                                // A fresh embedded database per test JVM: rows of an earlier run
                                // in the same target/ must not count in this one.
                                "gateway.storage.path",
                                        "target/it-data/run-"
                                                + ProcessHandle.current().pid())));
    }
}
