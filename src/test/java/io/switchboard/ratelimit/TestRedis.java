package io.switchboard.ratelimit;

import org.testcontainers.containers.GenericContainer;

/**
 * The Redis of the tests: {@code SWITCHBOARD_TEST_REDIS} when set (a Redis that is down then fails
 * the test, never skips it), else a Testcontainers Redis.
 */
final class TestRedis {

    private static GenericContainer<?> container;

    private TestRedis() {}

    static synchronized String url() {
        String configured = System.getenv("SWITCHBOARD_TEST_REDIS");
        if (configured != null && !configured.isBlank()) {
            return configured;
        }
        if (container == null) {
            container = new GenericContainer<>("redis:7-alpine").withExposedPorts(6379);
            container.start();
        }
        return "redis://" + container.getHost() + ":" + container.getMappedPort(6379);
    }
}
