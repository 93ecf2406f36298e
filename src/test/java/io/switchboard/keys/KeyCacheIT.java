package io.switchboard.keys;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import io.switchboard.testing.AdminApi;
import io.switchboard.testing.GatewayIntegrationTest;
import io.switchboard.testing.TestGateway;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import reactor.core.publisher.Flux;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/** The key cache seen from outside: bursts of requests and floods of bad keys against the database read counter. */
@GatewayIntegrationTest
class KeyCacheIT {

    @LocalServerPort
    int port;

    @Autowired
    MeterRegistry meters;

    AdminApi admin;
    HttpClient http;

    @BeforeEach
    void setUp() {
        admin = new AdminApi(new TestGateway(port), TestGateway.ADMIN_KEY);
        http = HttpClient.create(ConnectionProvider.builder("key-cache-it")
                        .maxConnections(64)
                        .build())
                .baseUrl("http://127.0.0.1:" + port);
    }

    private double reads() {
        return meters.find("gateway.keys.lookups").counters().stream()
                .mapToDouble(counter -> counter.count())
                .sum();
    }

    /** Sends one authenticated request per key, 64 at a time, and counts the statuses. */
    private Map<Integer, Long> burst(List<String> keys) {
        return Flux.fromIterable(keys)
                .flatMap(
                        key -> http.headers(headers -> headers.set("Authorization", "Bearer " + key))
                                .get()
                                .uri("/v1/no-such-operation")
                                .responseSingle((response, body) ->
                                        body.then().thenReturn(response.status().code())),
                        64)
                .collectList()
                .block(Duration.ofSeconds(100))
                .stream()
                .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
    }

    @Test
    void aThousandRequestsWithOneKeyMakeAtMostOneDatabaseRead() {
        String key = admin.createKey("{\"name\":\"burst\"}").get("key").asString();
        double before = reads();
        Map<Integer, Long> statuses =
                burst(IntStream.range(0, 1000).mapToObj(i -> key).toList());
        assertThat(statuses).containsExactly(Map.entry(404, 1000L));
        assertThat(reads() - before).isLessThanOrEqualTo(1.0);
    }

    /** The flood of issue 3 over HTTP: 1,000 unknown keys make 1,000 reads, and sending them again none. */
    @Test
    void unknownKeysAreReadOnceEachNotOncePerRequest() {
        SecureRandom random = new SecureRandom();
        List<String> unknown = IntStream.range(0, 1000)
                .mapToObj(i -> ApiKeyFormat.generate(random))
                .toList();
        double before = reads();
        assertThat(burst(unknown)).containsExactly(Map.entry(401, 1000L));
        assertThat(reads() - before).isEqualTo(1000.0);
        assertThat(burst(unknown)).containsExactly(Map.entry(401, 1000L));
        assertThat(reads() - before).isEqualTo(1000.0);
    }

    @Test
    void malformedKeysNeverReachTheDatabase() {
        double before = reads();
        List<String> malformed = IntStream.range(0, 200)
                .mapToObj(i -> "sk-gw-" + "x".repeat(40) + i)
                .toList();
        assertThat(burst(malformed)).containsExactly(Map.entry(401, 200L));
        assertThat(reads()).isEqualTo(before);
    }
}
