package io.switchboard.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.testing.HttpText;
import io.switchboard.testing.RunningGateway;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;

/** The console's files come out of the jar, unauthenticated, under a strict content security policy. */
@RunningGateway
class ConsoleResourcesIT {

    @Autowired
    WebTestClient http;

    @Test
    void consoleWithoutSlashRedirectsToTheConsolePage() {
        http.get()
                .uri("/console")
                .exchange()
                .expectStatus()
                .isEqualTo(HttpStatus.PERMANENT_REDIRECT)
                .expectHeader()
                .valueEquals("Location", "/console/")
                // Read and release every body: one left unread in the client's connection leaks its buffers.
                .expectBody(Void.class);
    }

    @Test
    void consolePageIsServedWithoutAuthenticationUnderAStrictPolicy() {
        String page = http.get()
                .uri("/console/")
                .exchange()
                .expectStatus()
                .isOk()
                .expectHeader()
                .contentTypeCompatibleWith(MediaType.TEXT_HTML)
                .expectHeader()
                .valueEquals("Content-Security-Policy", ConsoleHeadersWebFilter.POLICY)
                .expectBody(String.class)
                .returnResult()
                .getResponseBody();
        assertThat(page)
                .contains("id=\"login-form\"", "js/app.js", "vendor/uPlot.iife.min.js")
                // No inline script: the policy would block it, and the page must not need it.
                .doesNotContainPattern("<script(?![^>]*\\bsrc=)[^>]*>");
    }

    @Test
    void scriptsAndTheVendoredChartLibraryWithItsLicenceAreServed() {
        for (String path :
                new String[] {"/console/js/app.js", "/console/js/pages/keys.js", "/console/vendor/uPlot.iife.min.js"}) {
            http.get()
                    .uri(path)
                    .exchange()
                    .expectStatus()
                    .isOk()
                    .expectHeader()
                    .valueEquals("Content-Security-Policy", ConsoleHeadersWebFilter.POLICY)
                    .expectBody(Void.class);
        }
        http.get()
                .uri("/console/vendor/uPlot.min.css")
                .exchange()
                .expectStatus()
                .isOk()
                .expectBody(Void.class);
        String licence = HttpText.get(http, "/console/vendor/uPlot.LICENSE");
        assertThat(licence).contains("MIT License", "Leon Sorokin");
    }

    @Test
    void theConsoleNeverPutsTheAdminKeyInAUrlOrACookie() {
        String api = HttpText.get(http, "/console/js/api.js");
        assertThat(api)
                .contains("sessionStorage", "Authorization: `Bearer ${key ?? ''}`", "credentials: 'omit'")
                .doesNotContain("document.cookie", "localStorage");
    }
}
