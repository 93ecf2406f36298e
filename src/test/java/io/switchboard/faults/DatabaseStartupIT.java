package io.switchboard.faults;

import static io.switchboard.faults.DependencyFaults.ADMIN_KEY;
import static io.switchboard.faults.DependencyFaults.chat;
import static io.switchboard.faults.DependencyFaults.status;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.switchboard.faults.DependencyFaults.Timed;
import io.switchboard.keys.ApiKeyFormat;
import io.switchboard.testing.AdminApi;
import io.switchboard.testing.FakeUpstream;
import io.switchboard.testing.FaultProxy;
import io.switchboard.testing.GatewayInstance;
import io.switchboard.testing.PostgresTestDatabase;
import io.switchboard.testing.TestGateway;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL unreachable when the gateway starts: it starts anyway and reports not ready, serves
 * keys from configuration, answers 503 for keys that need the database, and once the database is
 * reachable migrates the schema, becomes ready, serves database keys and writes the ledger rows of
 * the requests it served meanwhile.
 */
class DatabaseStartupIT {

    @Test
    void aGatewayStartedWithoutItsDatabaseIsNotReadyServesConfiguredKeysAndRecoversWhenTheDatabaseComes() {
        SecureRandom random = new SecureRandom();
        try (FakeUpstream upstream = FakeUpstream.start();
                PostgresTestDatabase database = PostgresTestDatabase.create();
                FaultProxy proxy = FaultProxy.to(database.host(), database.port())) {
            proxy.refuse();
            Map<String, String> settings = DependencyFaults.settingsThrough(upstream, database, proxy);
            try (GatewayInstance gateway = GatewayInstance.start(settings)) {
                TestGateway client = gateway.gateway();
                assertThat(status(client, "/actuator/health/readiness")).isEqualTo(503);
                assertThat(status(client, "/actuator/health/liveness")).isEqualTo(200);
                assertThat(chat(client, TestGateway.CLIENT_KEY, "configured-while-down")
                                .status())
                        .isEqualTo(200);
                Timed unknown = chat(client, ApiKeyFormat.generate(random), "unknown-while-down");
                assertThat(unknown.status()).isEqualTo(503);
                assertThat(unknown.body()).contains("\"code\":\"service_unavailable\"");
                assertThat(unknown.took()).isLessThan(Duration.ofSeconds(3));

                proxy.pass();
                await().atMost(Duration.ofSeconds(15))
                        .pollInterval(Duration.ofMillis(200))
                        .until(() -> status(client, "/actuator/health/readiness") == 200);
                assertThat(status(client, "/actuator/health")).isEqualTo(200);
                String key = new AdminApi(client, ADMIN_KEY)
                        .createKey("{\"name\":\"after-start\"}")
                        .get("key")
                        .asString();
                assertThat(chat(client, key, "database-key").status()).isEqualTo(200);
                assertThat(chat(client, ApiKeyFormat.generate(random), "unknown-after")
                                .status())
                        .isEqualTo(401);
                await().atMost(Duration.ofSeconds(15))
                        .pollInterval(Duration.ofMillis(200))
                        .until(() -> database.count("SELECT COUNT(*) FROM usage WHERE request_id IN"
                                        + " ('configured-while-down', 'database-key') AND status = 200")
                                == 2);
            }
        }
    }
}
