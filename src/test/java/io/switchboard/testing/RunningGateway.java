package io.switchboard.testing;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient;

/**
 * The whole gateway on a random port with the demo upstream on and a known admin key. Every test
 * class with this annotation shares one application context (Spring's test context cache); an
 * injected {@code WebTestClient} talks to it over a real socket.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
// Generous: this machine and CI runners share few cores between many JVMs.
@AutoConfigureWebTestClient(timeout = "30s")
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "gateway.admin.key=" + RunningGateway.ADMIN_KEY,
            "gateway.demo.enabled=true",
            "gateway.demo.first-token-delay=20ms",
            "gateway.demo.token-interval=5ms",
            "gateway.providers.openrouter.api-key=",
            // The keys branch keeps the embedded database here; a directory of our own avoids sharing
            // the H2 file with the other integration contexts of the same run.
            "gateway.storage.path=target/ops-it-data",
            // No Redis answers here: health must not depend on Spring Data Redis (see application.yml).
            "spring.data.redis.url=redis://127.0.0.1:9"
        })
public @interface RunningGateway {

    String ADMIN_KEY = "test-admin-key-0123456789abcdef0123456789";
}
