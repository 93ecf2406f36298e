package io.switchboard.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The admin API as an operator's script calls it, with {@link RunningGateway#ADMIN_KEY}. */
public record AdminKeysClient(WebTestClient http) {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** A key as its creation answers it: the only time the secret is shown. */
    public record CreatedKey(String id, String name, String secret) {}

    public CreatedKey createKey(Map<String, Object> body) {
        String answer = http.post()
                .uri("/admin/keys")
                .header(HttpHeaders.AUTHORIZATION, "Bearer " + RunningGateway.ADMIN_KEY)
                .contentType(MediaType.APPLICATION_JSON)
                .bodyValue(body)
                .exchange()
                .expectStatus()
                .isCreated()
                .expectBody(String.class)
                .returnResult()
                .getResponseBody();
        JsonNode key = JSON.readTree(answer);
        assertThat(key.path("key").asString()).as("secret in %s", answer).startsWith("sk-gw-");
        return new CreatedKey(
                key.path("id").asString(),
                key.path("name").asString(),
                key.path("key").asString());
    }
}
