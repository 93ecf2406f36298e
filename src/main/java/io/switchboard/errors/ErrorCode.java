package io.switchboard.errors;

import org.springframework.http.HttpStatus;

/**
 * The documented error statuses of the data plane and admin API, each with the OpenAI {@code type}
 * and {@code code} a client sees. Clients branch on these names: add new ones, never rename.
 */
public enum ErrorCode {
    INVALID_REQUEST(HttpStatus.BAD_REQUEST, "invalid_request_error", "invalid_request"),
    INVALID_JSON(HttpStatus.BAD_REQUEST, "invalid_request_error", "invalid_json"),
    MISSING_MODEL(HttpStatus.BAD_REQUEST, "invalid_request_error", "model_required"),
    INVALID_API_KEY(HttpStatus.UNAUTHORIZED, "invalid_request_error", "invalid_api_key"),
    BUDGET_EXCEEDED(HttpStatus.PAYMENT_REQUIRED, "insufficient_quota", "budget_exceeded"),
    MODEL_NOT_ALLOWED(HttpStatus.FORBIDDEN, "permission_error", "model_not_allowed"),
    FORBIDDEN(HttpStatus.FORBIDDEN, "permission_error", "forbidden"),
    NOT_FOUND(HttpStatus.NOT_FOUND, "invalid_request_error", "not_found"),
    MODEL_NOT_FOUND(HttpStatus.NOT_FOUND, "invalid_request_error", "model_not_found"),
    METHOD_NOT_ALLOWED(HttpStatus.METHOD_NOT_ALLOWED, "invalid_request_error", "method_not_allowed"),
    REQUEST_TIMEOUT(HttpStatus.REQUEST_TIMEOUT, "invalid_request_error", "request_timeout"),
    CONFLICT(HttpStatus.CONFLICT, "invalid_request_error", "conflict"),
    BODY_TOO_LARGE(HttpStatus.PAYLOAD_TOO_LARGE, "invalid_request_error", "request_too_large"),
    URI_TOO_LONG(HttpStatus.URI_TOO_LONG, "invalid_request_error", "uri_too_long"),
    HEADERS_TOO_LARGE(HttpStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "invalid_request_error", "request_headers_too_large"),
    UNSUPPORTED_MEDIA_TYPE(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "invalid_request_error", "unsupported_media_type"),
    RATE_LIMITED(HttpStatus.TOO_MANY_REQUESTS, "rate_limit_error", "rate_limit_exceeded"),
    INTERNAL(HttpStatus.INTERNAL_SERVER_ERROR, "server_error", "internal_error"),
    UPSTREAM_ERROR(HttpStatus.BAD_GATEWAY, "upstream_error", "upstream_error"),
    UPSTREAM_UNREACHABLE(HttpStatus.BAD_GATEWAY, "upstream_error", "upstream_unreachable"),
    SERVICE_UNAVAILABLE(HttpStatus.SERVICE_UNAVAILABLE, "server_error", "service_unavailable"),
    UPSTREAM_TIMEOUT(HttpStatus.GATEWAY_TIMEOUT, "upstream_error", "upstream_timeout");

    private final HttpStatus status;
    private final String type;
    private final String code;

    ErrorCode(HttpStatus status, String type, String code) {
        this.status = status;
        this.type = type;
        this.code = code;
    }

    public HttpStatus status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String code() {
        return code;
    }
}
