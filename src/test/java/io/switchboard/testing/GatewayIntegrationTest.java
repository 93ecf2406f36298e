package io.switchboard.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.ContextConfiguration;

/**
 * The one shared application context of the integration tests: the gateway on a random port, its
 * {@code openrouter} provider pointed at the shared {@link FakeUpstream}, a second provider
 * {@code strict} (models {@code strict/*}) with short timeouts for the timeout tests, {@code dead}
 * (a closed port) and {@code connecting} (a port whose connects hang, 10 s connect timeout), an alias and
 * attribution set, a static data-plane key ({@link TestGateway#CLIENT_KEY}), the admin key, and the
 * embedded database under {@code target/it-data/run-<pid>} (see {@link FakeUpstreamInitializer}). Every test class with this annotation reuses the same running gateway.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "gateway.providers.openrouter.api-key=" + TestGateway.UPSTREAM_KEY,
            "gateway.providers.openrouter.idle-timeout=5s",
            "gateway.providers.strict.api-key=" + TestGateway.UPSTREAM_KEY,
            "gateway.providers.strict.models=strict/*",
            "gateway.providers.strict.response-timeout=700ms",
            "gateway.providers.strict.idle-timeout=700ms",
            "gateway.providers.strict.stream-usage=on-request",
            "gateway.providers.dead.base-url=http://127.0.0.1:9/v1",
            "gateway.providers.dead.models=dead/*",
            "gateway.providers.dead.connect-timeout=2s",
            // A port whose connects hang (see UnansweredConnectPort): a client leaving mid-connect.
            "gateway.providers.connecting.models=connecting/*",
            "gateway.providers.connecting.connect-timeout=10s",
            // The same port with a short connect timeout: a connect that times out.
            "gateway.providers.slowconnect.models=slowconnect/*",
            "gateway.providers.slowconnect.connect-timeout=500ms",
            // Rows reach the ledger soon after a request ends, so tests wait less for them.
            "gateway.usage.flush-interval=100ms",
            "gateway.models.aliases[gpt-4o-mini]=openai/gpt-5-nano",
            "gateway.attribution.referer=https://switchboard.example",
            "gateway.attribution.title=Switchboard Tests",
            "gateway.attribution.categories=programming",
            "gateway.streaming.heartbeat=400ms",
            // Longer than any test's client pauses on purpose (the slow client's 1 byte/s included).
            "gateway.streaming.send-timeout=12s",
            "gateway.limits.max-body-size=1MB",
            // Short, for RequestBodyReadIT; longer than any other test pauses mid-body.
            "gateway.limits.body-idle-timeout=2s",
            "gateway.keys.static[0].name=test-client",
            "gateway.keys.static[0].secret=" + TestGateway.CLIENT_KEY,
            "gateway.admin.key=" + TestGateway.ADMIN_KEY,
            // Long enough that a burst of requests on a loaded machine sees no background re-read.
            "gateway.keys.cache.refresh=5m",
            "gateway.keys.lookup-timeout=10s",
            "spring.r2dbc.pool.max-acquire-time=10s",
        })
@ContextConfiguration(initializers = FakeUpstreamInitializer.class)
public @interface GatewayIntegrationTest {}
