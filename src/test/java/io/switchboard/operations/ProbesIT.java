package io.switchboard.operations;

import io.switchboard.testing.RunningGateway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.web.reactive.server.WebTestClient;

/** The health endpoints an orchestrator polls answer without any credential. */
@RunningGateway
class ProbesIT {

    @Autowired
    WebTestClient http;

    @ParameterizedTest
    @ValueSource(strings = {"/actuator/health/liveness", "/actuator/health/readiness"})
    void kubernetesProbesAnswerUpWithoutAuthentication(String probe) {
        http.get()
                .uri(probe)
                .exchange()
                .expectStatus()
                .isOk()
                .expectBody()
                .jsonPath("$.status")
                .isEqualTo("UP");
    }

    /**
     * The contract's readiness answer, whole (a client may compare the entire body): no components,
     * no details, no group names, for an anonymous caller and without Redis.
     */
    @Test
    void healthAnswersExactlyTheContractsBodyWithoutAuthenticationOrRedis() {
        http.get()
                .uri("/actuator/health")
                .exchange()
                .expectStatus()
                .isOk()
                .expectBody()
                .json("{\"status\":\"UP\"}", org.springframework.test.json.JsonCompareMode.STRICT);
    }
}
