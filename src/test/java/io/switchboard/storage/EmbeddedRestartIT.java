package io.switchboard.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.testing.AdminApi;
import io.switchboard.testing.GatewayInstance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** The embedded default: an H2 file under gateway.storage.path that outlives the process. */
class EmbeddedRestartIT {

    private static final String ADMIN_KEY = "embedded-it-admin-secret";

    @TempDir
    Path storage;

    @Test
    void restartedGatewayKeepsItsKeysAndRevocations() {
        Map<String, String> settings =
                Map.of("gateway.storage.path", storage.toString(), "gateway.admin.key", ADMIN_KEY);
        String live;
        String revoked;
        try (GatewayInstance gateway = GatewayInstance.start(settings)) {
            AdminApi admin = new AdminApi(gateway.gateway(), ADMIN_KEY);
            live = admin.createKey("{\"name\":\"survives\"}").get("key").asString();
            JsonNode gone = admin.createKey("{\"name\":\"revoked-before-restart\"}");
            revoked = gone.get("key").asString();
            admin.call("DELETE", "/admin/keys/" + gone.get("id").asString(), null);
        }
        assertThat(Files.exists(storage.resolve("switchboard.mv.db"))).isTrue();

        try (GatewayInstance restarted = GatewayInstance.start(settings)) {
            AdminApi admin = new AdminApi(restarted.gateway(), ADMIN_KEY);
            assertThat(admin.probe(live)).isEqualTo(404);
            assertThat(admin.probe(revoked)).isEqualTo(401);
            assertThat(admin.json(admin.call("GET", "/admin/keys?name=survives", null))
                            .get("total")
                            .asLong())
                    .isEqualTo(1);
        }
    }

    @Test
    void withoutAnAdminKeyTheAdminApiIsNotFound() {
        try (GatewayInstance gateway = GatewayInstance.start(Map.of("gateway.storage.path", storage.toString()))) {
            AdminApi admin = new AdminApi(gateway.gateway(), "anything");
            var response = admin.call("GET", "/admin/keys", null);
            assertThat(response.statusCode()).isEqualTo(404);
            assertThat(response.body()).contains("\"code\":\"not_found\"").contains("GATEWAY_ADMIN_KEY");
            assertThat(admin.call("POST", "/admin/keys", "{\"name\":\"x\"}").statusCode())
                    .isEqualTo(404);
        }
    }
}
