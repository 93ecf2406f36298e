package io.switchboard.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The admin API of a gateway under test, called over real HTTP with a bearer credential. */
public final class AdminApi {

    public static final JsonMapper JSON = JsonMapper.builder().build();

    private final TestGateway gateway;
    private final String adminKey;

    public AdminApi(TestGateway gateway, String adminKey) {
        this.gateway = gateway;
        this.adminKey = adminKey;
    }

    /** Creates a key and returns the answer (which holds the secret in {@code key}). */
    public JsonNode createKey(String json) {
        HttpResponse<String> response = call("POST", "/admin/keys", json);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return JSON.readTree(response.body());
    }

    public HttpResponse<String> call(String method, String path, String body) {
        return call(method, path, body, adminKey);
    }

    public HttpResponse<String> call(String method, String path, String body, String bearer) {
        HttpRequest.Builder request = HttpRequest.newBuilder(gateway.uri(path))
                .timeout(Duration.ofSeconds(20))
                .header("Authorization", "Bearer " + bearer)
                .header("Content-Type", "application/json")
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return gateway.send(request.build());
    }

    public JsonNode json(HttpResponse<String> response) {
        return JSON.readTree(response.body());
    }

    /** Status of a data-plane call that needs authentication but no upstream: 404 once past it, 401 if refused. */
    public int probe(String dataPlaneKey) {
        return gateway.send(HttpRequest.newBuilder(gateway.uri("/v1/no-such-operation"))
                        .timeout(Duration.ofSeconds(20))
                        .header("Authorization", "Bearer " + dataPlaneKey)
                        .GET()
                        .build())
                .statusCode();
    }
}
