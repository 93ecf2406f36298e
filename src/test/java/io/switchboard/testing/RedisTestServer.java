package io.switchboard.testing;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;

/**
 * A Redis for tests: the server named by {@code SWITCHBOARD_TEST_REDIS} (e.g.
 * {@code redis://127.0.0.1:6379}) when it is set, else one from Testcontainers when a Docker engine
 * exists, else the test is skipped. With the variable set and the server down, {@link #url()} fails
 * rather than skips.
 */
public final class RedisTestServer {

    public static final String ENV = "SWITCHBOARD_TEST_REDIS";

    private static GenericContainer<?> container;

    private RedisTestServer() {}

    public static synchronized String url() {
        String configured = System.getenv(ENV);
        String url;
        if (configured != null && !configured.isBlank()) {
            url = configured.strip();
        } else if (DockerClientFactory.instance().isDockerAvailable()) {
            if (container == null) {
                // 7.0, the oldest the limits' scripts must work on: before 7.2 Redis hands a Lua
                // number to a command as %.17g text ("-0", "1e+17"), which an integer argument refuses.
                container = new GenericContainer<>("redis:7.0-alpine").withExposedPorts(6379);
                container.start();
            }
            url = "redis://" + container.getHost() + ":" + container.getMappedPort(6379);
        } else {
            Assumptions.abort("No Docker engine and " + ENV + " is not set: no Redis to test against");
            throw new IllegalStateException("unreachable");
        }
        ping(url);
        return url;
    }

    private static void ping(String url) {
        RedisURI uri = RedisURI.create(url);
        uri.setTimeout(Duration.ofSeconds(2));
        RedisClient client = RedisClient.create(uri);
        try (StatefulRedisConnection<String, String> connection = client.connect()) {
            connection.sync().ping();
        } catch (RuntimeException e) {
            throw new IllegalStateException("Redis at " + url + " does not answer (" + ENV + " set? server up?)", e);
        } finally {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        }
    }
}
