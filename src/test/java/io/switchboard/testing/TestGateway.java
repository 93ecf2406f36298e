package io.switchboard.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A plain HTTP client for the gateway under test, with the data-plane key tests use. */
public final class TestGateway {

    /** The upstream credential configured in tests: it must never reach a client. */
    public static final String UPSTREAM_KEY = "sk-or-v1-UPSTREAM-SECRET-0123456789";
    /**
     * A well-formed data-plane key, declared in the shared test context as a static key
     * ({@code gateway.keys.static[0]}) that may use every model.
     */
    public static final String CLIENT_KEY = "sk-gw-QIONJqKgXs2BuuZdfcoyluAUPBIwuDz3McQgMLaym9T4JRZxu";
    /** The admin API's secret in the shared test context. */
    public static final String ADMIN_KEY = "test-admin-secret-5f1c9e";
    /** The data-plane key tests send. */
    public static String clientKey = CLIENT_KEY;

    private final int port;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    public TestGateway(int port) {
        this.port = port;
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port + "/v1";
    }

    public HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(uri(path))
                .timeout(Duration.ofSeconds(20))
                .header("Authorization", "Bearer " + clientKey);
    }

    public HttpResponse<String> postJson(String path, String body) {
        return send(request(path)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build());
    }

    public HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public HttpClient http() {
        return http;
    }
}
