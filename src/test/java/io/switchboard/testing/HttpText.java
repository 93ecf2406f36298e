package io.switchboard.testing;

import org.springframework.test.web.reactive.server.WebTestClient;

/** A page or document fetched without credentials, asserted to answer 200. */
public final class HttpText {

    private HttpText() {}

    public static String get(WebTestClient http, String path) {
        return http.get()
                .uri(path)
                .exchange()
                .expectStatus()
                .isOk()
                .expectBody(String.class)
                .returnResult()
                .getResponseBody();
    }
}
