package io.switchboard.errors;

import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;

/**
 * The one exception type the gateway throws on purpose. Its message is shown to the client, so it
 * must never hold a secret, a host name, a class name or a stack trace. Stack traces are not
 * captured: these are expected outcomes, not bugs, and some (429, 401) are frequent.
 */
public final class GatewayException extends RuntimeException {

    private final ErrorCode code;
    private final @Nullable String param;
    private final HttpHeaders headers;

    private GatewayException(ErrorCode code, String message, @Nullable String param, HttpHeaders headers) {
        super(message, null, false, false);
        this.code = code;
        this.param = param;
        this.headers = headers;
    }

    public static GatewayException of(ErrorCode code, String message) {
        return new GatewayException(code, message, null, HttpHeaders.EMPTY);
    }

    public static GatewayException of(ErrorCode code, String message, @Nullable String param) {
        return new GatewayException(code, message, param, HttpHeaders.EMPTY);
    }

    /** An error that carries extra response headers, such as {@code Retry-After} on a 429. */
    public static GatewayException withHeaders(ErrorCode code, String message, HttpHeaders headers) {
        return new GatewayException(code, message, null, HttpHeaders.readOnlyHttpHeaders(headers));
    }

    public ErrorCode code() {
        return code;
    }

    public @Nullable String param() {
        return param;
    }

    public HttpHeaders headers() {
        return headers;
    }
}
