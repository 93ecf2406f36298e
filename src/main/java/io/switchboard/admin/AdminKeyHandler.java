package io.switchboard.admin;

import io.switchboard.errors.ErrorCode;
import io.switchboard.errors.GatewayException;
import io.switchboard.keys.ApiKey;
import io.switchboard.keys.KeyEdit;
import io.switchboard.keys.KeyRepository;
import io.switchboard.keys.KeyRevokedException;
import io.switchboard.keys.KeyService;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpStatus;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.security.core.context.ReactiveSecurityContextHolder;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The admin API for keys and the audit trail. Every change is audited with the admin credential's id;
 * reads are not. The secret appears only in the answers to creation and rotation.
 */
public final class AdminKeyHandler {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String METADATA_PARAM = "metadata.";

    private final KeyService keys;
    private final KeyRepository repository;
    private final AuditLog audit;
    private final KeyRequestReader reader;
    private final Clock clock;

    AdminKeyHandler(KeyService keys, KeyRepository repository, AuditLog audit, Clock clock) {
        this.keys = keys;
        this.repository = repository;
        this.audit = audit;
        this.reader = new KeyRequestReader(clock);
        this.clock = clock;
    }

    /** The handler over the key service, storing its audit trail through {@code db}. */
    public static AdminKeyHandler create(KeyService keys, KeyRepository repository, DatabaseClient db, Clock clock) {
        return new AdminKeyHandler(keys, repository, new AuditLog(db, clock), clock);
    }

    public RouterFunction<ServerResponse> routes() {
        return RouterFunctions.route()
                .POST("/admin/keys", this::create)
                .GET("/admin/keys", this::list)
                .GET("/admin/keys/{id}", this::get)
                .PATCH("/admin/keys/{id}", this::update)
                .DELETE("/admin/keys/{id}", this::revoke)
                .POST("/admin/keys/{id}/rotate", this::rotate)
                .GET("/admin/audit", this::auditTrail)
                .build();
    }

    private Mono<ServerResponse> create(ServerRequest request) {
        return body(request)
                .switchIfEmpty(Mono.error(() -> GatewayException.of(
                        ErrorCode.INVALID_REQUEST, "A JSON body with at least 'name' is required.")))
                .map(reader::create)
                .flatMap(edit -> keys.create(edit, audited("key.create", fields(edit)))
                        .flatMap(issued -> ServerResponse.status(HttpStatus.CREATED)
                                .bodyValue(KeyView.of(
                                        issued.key(),
                                        edit.metadata() == null ? Map.of() : edit.metadata(),
                                        issued.secret(),
                                        clock.instant()))));
    }

    private Mono<ServerResponse> list(ServerRequest request) {
        String name = request.queryParam("name").orElse(null);
        int limit = intParam(request, "limit", 50, 1, 500);
        int offset = intParam(request, "offset", 0, 0, Integer.MAX_VALUE);
        Map<String, String> labels = new LinkedHashMap<>();
        request.queryParams().forEach((param, values) -> {
            if (param.startsWith(METADATA_PARAM) && param.length() > METADATA_PARAM.length() && !values.isEmpty()) {
                String value = values.get(0);
                if (value == null) {
                    // "?metadata.team" without "=": a filter with no value to compare.
                    throw GatewayException.of(
                            ErrorCode.INVALID_REQUEST, "'" + param + "' needs a value: " + param + "=<value>.", param);
                }
                labels.put(param.substring(METADATA_PARAM.length()), value);
            }
        });
        return repository
                .list(name, labels, limit, offset)
                .flatMap(page -> repository
                        .metadata(page.keys().stream().map(ApiKey::id).toList())
                        .flatMap(metadata -> {
                            List<KeyView> views = page.keys().stream()
                                    .map(key -> KeyView.of(
                                            key, metadata.getOrDefault(key.id(), Map.of()), null, clock.instant()))
                                    .toList();
                            return ServerResponse.ok()
                                    .bodyValue(new KeyList("list", views, page.total(), limit, offset));
                        }));
    }

    private Mono<ServerResponse> get(ServerRequest request) {
        String id = request.pathVariable("id");
        return keys.find(id).switchIfEmpty(notFound()).flatMap(key -> view(key, null));
    }

    private Mono<ServerResponse> update(ServerRequest request) {
        String id = request.pathVariable("id");
        return body(request)
                .switchIfEmpty(
                        Mono.error(() -> GatewayException.of(ErrorCode.INVALID_REQUEST, "A JSON body is required.")))
                .map(reader::update)
                .flatMap(edit -> keys.update(id, edit, audited("key.update", fields(edit)))
                        .switchIfEmpty(notFound())
                        .then(keys.find(id))
                        .flatMap(key -> view(key, null)));
    }

    private Mono<ServerResponse> revoke(ServerRequest request) {
        String id = request.pathVariable("id");
        return keys.revoke(id, audited("key.revoke", null))
                .switchIfEmpty(notFound())
                .flatMap(key -> view(key, null));
    }

    private Mono<ServerResponse> rotate(ServerRequest request) {
        String id = request.pathVariable("id");
        return body(request)
                .map(reader::grace)
                .defaultIfEmpty(Duration.ZERO)
                .flatMap(grace -> keys.find(id)
                        .switchIfEmpty(notFound())
                        .flatMap(existing -> {
                            if (existing.revokedAt() != null) {
                                return Mono.error(new KeyRevokedException(id));
                            }
                            return keys.rotate(
                                    id, grace, audited("key.rotate", "{\"grace_seconds\":" + grace.toSeconds() + "}"));
                        })
                        .onErrorMap(
                                KeyRevokedException.class,
                                revoked -> GatewayException.of(ErrorCode.CONFLICT, "A revoked key cannot be rotated."))
                        .flatMap(issued -> view(issued.key(), issued.secret())));
    }

    /** The audit row of one action by the calling admin, written in the change's own transaction. */
    private KeyService.Audit audited(String action, @Nullable String detail) {
        return key -> actor().flatMap(actor -> audit.record(actor, action, key.id(), detail));
    }

    private Mono<ServerResponse> auditTrail(ServerRequest request) {
        String keyId = request.queryParam("key_id").orElse(null);
        int limit = intParam(request, "limit", 100, 1, 1000);
        int offset = intParam(request, "offset", 0, 0, Integer.MAX_VALUE);
        return audit.list(keyId, limit, offset)
                .flatMap(entries -> ServerResponse.ok().bodyValue(new AuditList("list", entries)));
    }

    private Mono<ServerResponse> view(ApiKey key, @Nullable String secret) {
        return repository
                .metadata(List.of(key.id()))
                .flatMap(metadata -> ServerResponse.ok()
                        .bodyValue(
                                KeyView.of(key, metadata.getOrDefault(key.id(), Map.of()), secret, clock.instant())));
    }

    /**
     * The JSON body whatever its {@code Content-Type}: {@code curl -d '{...}'} sends
     * {@code application/x-www-form-urlencoded}, which a typed read refused with 415 (the data plane
     * reads such bodies as JSON too).
     */
    private static Mono<JsonNode> body(ServerRequest request) {
        return request.bodyToMono(byte[].class).map(bytes -> {
            try {
                return JSON.readTree(bytes);
            } catch (JacksonException e) {
                throw GatewayException.of(ErrorCode.INVALID_JSON, "The body is not valid JSON.");
            }
        });
    }

    private static Mono<String> actor() {
        return ReactiveSecurityContextHolder.getContext()
                .mapNotNull(context -> context.getAuthentication())
                .map(authentication -> authentication.getName())
                .defaultIfEmpty("unknown");
    }

    private static String fields(KeyEdit edit) {
        ObjectNode detail = JSON.createObjectNode();
        edit.fields().forEach(detail.putArray("fields")::add);
        return JSON.writeValueAsString(detail);
    }

    private static <T> Mono<T> notFound() {
        return Mono.error(() -> GatewayException.of(ErrorCode.NOT_FOUND, "No key has this id."));
    }

    private static int intParam(ServerRequest request, String name, int fallback, int min, int max) {
        String value = request.queryParam(name).orElse(null);
        if (value == null || value.isEmpty()) {
            return fallback;
        }
        try {
            int number = Integer.parseInt(value);
            if (number >= min && number <= max) {
                return number;
            }
        } catch (NumberFormatException e) {
            // fall through to the error below
        }
        throw GatewayException.of(
                ErrorCode.INVALID_REQUEST,
                "'" + name + "' must be a whole number from " + min + " to " + max + ".",
                name);
    }

    record KeyList(String object, List<KeyView> data, long total, int limit, int offset) {}

    record AuditList(String object, List<AuditLog.Entry> data) {}
}
