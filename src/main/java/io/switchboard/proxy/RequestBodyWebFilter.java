package io.switchboard.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.switchboard.errors.ErrorCode;
import io.switchboard.errors.ErrorResponses;
import io.switchboard.errors.GatewayException;
import io.switchboard.exchange.GatewayExchange;
import io.switchboard.exchange.PipelineOrder;
import io.switchboard.exchange.ProxyEndpoint;
import io.switchboard.exchange.ProxyRequest;
import io.switchboard.upstream.Provider;
import io.switchboard.upstream.ProviderRegistry;
import io.switchboard.upstream.StreamUsage;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.core.annotation.Order;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.NettyDataBuffer;
import org.springframework.http.HttpMethod;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;
import tools.jackson.core.json.JsonFactory;

/**
 * Reads the body of a data-plane POST once, bounded by {@code gateway.limits.max-body-size}, parsing
 * it as it arrives; then rewrites the model, picks the upstream and prepares the exact bytes to send.
 * Runs after authentication, so no body is read for an unknown caller, and before the limits, which
 * need the model and the token estimate.
 */
@Component
@Order(PipelineOrder.REQUEST_BODY)
public class RequestBodyWebFilter implements WebFilter {

    private static final byte[] INCLUDE_USAGE = BodySplice.ascii("\"include_usage\":true");
    private static final byte[] TRUE = BodySplice.ascii("true");
    private static final byte[] USAGE_OPTIONS = BodySplice.ascii("{\"include_usage\":true}");

    private final long maxBodySize;
    private final JsonFactory json;
    private final ModelRewrite models;
    private final ProviderRegistry providers;

    public RequestBodyWebFilter(BodyLimitProperties limits, ModelRewrite models, ProviderRegistry providers) {
        this.maxBodySize = limits.maxBodySize().toBytes();
        this.json = RequestBodyScanner.factory(limits);
        this.models = models;
        this.providers = providers;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        GatewayExchange state = GatewayExchange.find(exchange);
        ProxyEndpoint endpoint = state == null ? null : state.endpoint();
        if (endpoint == null || !endpoint.hasBody() || exchange.getRequest().getMethod() != HttpMethod.POST) {
            return chain.filter(exchange);
        }
        long declared = exchange.getRequest().getHeaders().getContentLength();
        if (declared > maxBodySize) {
            return ErrorResponses.write(exchange, tooLarge());
        }
        return read(exchange)
                // Let go of the read's operators once the body is in: the flatMaps below keep their
                // finished source for as long as the exchange lasts (a stream: minutes).
                .onTerminateDetach()
                .flatMap(scanned -> prepare(exchange, endpoint, scanned))
                .flatMap(body -> chain.filter(exchange).doFinally(signal -> body.release()));
    }

    /** The whole body, parsed as it arrives; each chunk is kept (not copied) for the splice. */
    private Mono<ScannedBody> read(ServerWebExchange exchange) {
        ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
        return Mono.defer(() -> {
            ScannedBody scanned = new ScannedBody(new RequestBodyScanner(json), alloc.compositeBuffer(64));
            return exchange.getRequest()
                    .getBody()
                    .doOnNext(chunk -> scanned.add(chunk, maxBodySize))
                    .doOnDiscard(DataBuffer.class, DataBufferUtils::release)
                    .then(Mono.fromCallable(scanned::finish))
                    .doOnError(e -> scanned.discard())
                    .doOnCancel(scanned::discard);
        });
    }

    private Mono<UpstreamBody> prepare(ServerWebExchange exchange, ProxyEndpoint endpoint, ScannedBody scanned) {
        try {
            RequestBodyScanner scan = scanned.scanner();
            BodySplice splice = new BodySplice();
            String requested;
            String model;
            RequestBodyScanner.StringSpan span = scan.model();
            if (span != null) {
                requested = span.value();
                model = models.rewrite(requested);
                if (!model.equals(requested)) {
                    replaceString(scanned, span, model, splice);
                }
            } else {
                requested = models.defaultModel();
                if (requested == null) {
                    throw GatewayException.of(
                            ErrorCode.MISSING_MODEL,
                            "The request names no model and no default is configured.",
                            "model");
                }
                model = models.rewrite(requested);
                if (scan.modelNullStart() >= 0) {
                    // "model": null names none: the default takes the null's place (never a second
                    // "model" member, which parsers that keep the last one would read as null).
                    replaceNull(scanned, scan.modelNullStart(), BodySplice.jsonString(model), splice);
                } else {
                    splice.insert(
                            scanned.anchor(scan.rootStart(), '{') + 1,
                            member(
                                    BodySplice.ascii("\"model\":"
                                            + new String(
                                                    BodySplice.jsonString(model),
                                                    java.nio.charset.StandardCharsets.UTF_8)),
                                    scan.rootMembers() > 0));
                }
            }
            List<String> fallbacks = new java.util.ArrayList<>(scan.models().size());
            for (RequestBodyScanner.StringSpan entry : scan.models()) {
                String rewritten = models.rewrite(entry.value());
                fallbacks.add(rewritten);
                if (!rewritten.equals(entry.value())) {
                    replaceString(scanned, entry, rewritten, splice);
                }
            }
            Provider provider = providers.forModel(model);
            if (provider == null) {
                throw GatewayException.of(ErrorCode.NOT_FOUND, "No upstream serves this model.", "model");
            }
            boolean usageRequested = Boolean.TRUE.equals(scan.includeUsage());
            boolean injectUsage = scan.stream()
                    && endpoint != ProxyEndpoint.EMBEDDINGS
                    && provider.streamUsage() == StreamUsage.ON_REQUEST
                    && !usageRequested;
            if (injectUsage) {
                askForUsage(scanned, splice);
            }
            ByteBuf body = splice.apply(scanned.detach(), ByteBufAllocator.DEFAULT);
            GatewayExchange state = GatewayExchange.of(exchange);
            state.provider(provider.name());
            state.request(new ProxyRequest(
                    endpoint,
                    requested,
                    model,
                    List.copyOf(fallbacks),
                    scan.stream(),
                    scan.maxTokens(),
                    scan.choices(),
                    Math.max(1, body.readableBytes() / 4),
                    usageRequested,
                    injectUsage));
            return Mono.just(UpstreamBody.attach(exchange, body));
        } catch (RuntimeException e) {
            scanned.discard();
            return Mono.error(e);
        }
    }

    /** Replaces a JSON string, quotes included. */
    private static void replaceString(
            ScannedBody scanned, RequestBodyScanner.StringSpan span, String value, BodySplice splice) {
        long start = scanned.anchor(span.start(), '"');
        if (scanned.byteAt(span.end() - 1) != '"') {
            throw new IllegalStateException("model offsets do not frame a JSON string");
        }
        splice.replace(start, span.end(), BodySplice.jsonString(value));
    }

    /**
     * Puts {@code value} where the body has a {@code null} (at {@code offset}): a client's null is
     * replaced, never followed by a second member of the same name, which parsers resolve differently.
     */
    private static void replaceNull(ScannedBody scanned, long offset, byte[] value, BodySplice splice) {
        long start = scanned.anchor(offset, 'n');
        splice.replace(start, start + 4, value);
    }

    /**
     * Adds {@code stream_options.include_usage=true}, where the body has room for it: in place of a
     * {@code null} the client sent (never as a second member of the same name, which parsers resolve
     * differently), else as a new member.
     */
    private static void askForUsage(ScannedBody scanned, BodySplice splice) {
        RequestBodyScanner scan = scanned.scanner();
        if (scan.streamOptionsNullStart() >= 0) {
            replaceNull(scanned, scan.streamOptionsNullStart(), USAGE_OPTIONS, splice);
        } else if (scan.streamOptionsStart() < 0) {
            byte[] member = BodySplice.ascii("\"stream_options\":{\"include_usage\":true}");
            splice.insert(scanned.anchor(scan.rootStart(), '{') + 1, member(member, scan.rootMembers() > 0));
        } else if (scan.includeUsageNullStart() >= 0) {
            replaceNull(scanned, scan.includeUsageNullStart(), TRUE, splice);
        } else if (scan.includeUsage() == null) {
            long brace = scanned.anchor(scan.streamOptionsStart(), '{');
            splice.insert(brace + 1, member(INCLUDE_USAGE, scan.streamOptionsMembers() > 0));
        } else {
            long start = scanned.anchor(scan.includeUsageStart(), scan.includeUsage() ? 't' : 'f');
            splice.replace(start, start + (scan.includeUsage() ? 4 : 5), TRUE);
        }
    }

    /** An object member to insert after an opening brace: followed by a comma when others follow. */
    private static byte[] member(byte[] member, boolean othersFollow) {
        if (!othersFollow) {
            return member;
        }
        byte[] out = java.util.Arrays.copyOf(member, member.length + 1);
        out[member.length] = ',';
        return out;
    }

    private static GatewayException tooLarge() {
        return GatewayException.of(ErrorCode.BODY_TOO_LARGE, "Request body is too large.");
    }

    /**
     * The body's chunks as they arrive, and the parse of them. Both are let go of once the body is
     * detached: the completed read stays reachable from the request's operator chain for as long as
     * the request lasts (an open stream: minutes), and the parser with what it read is not needed.
     */
    private static final class ScannedBody {

        private @Nullable RequestBodyScanner scanner;
        private @Nullable CompositeByteBuf chunks;

        ScannedBody(RequestBodyScanner scanner, CompositeByteBuf chunks) {
            this.scanner = scanner;
            this.chunks = chunks;
        }

        synchronized RequestBodyScanner scanner() {
            RequestBodyScanner current = scanner;
            if (current == null) {
                throw gone();
            }
            return current;
        }

        synchronized void add(DataBuffer chunk, long max) {
            ByteBuf buf = chunk instanceof NettyDataBuffer netty
                    ? netty.getNativeBuffer()
                    : io.netty.buffer.Unpooled.wrappedBuffer(chunk.asByteBuffer());
            if (chunks == null) {
                DataBufferUtils.release(chunk);
                return;
            }
            if ((long) chunks.readableBytes() + buf.readableBytes() > max) {
                DataBufferUtils.release(chunk);
                throw tooLarge();
            }
            chunks.addComponent(true, buf);
            scanner().feed(buf.nioBuffer());
        }

        /**
         * Where the token that starts with {@code first} begins: Jackson's non-blocking parser reports
         * token offsets one byte past the start, the blocking one at it, so the bytes decide.
         */
        synchronized long anchor(long reported, char first) {
            if (byteAt(reported) == first) {
                return reported;
            }
            if (reported > 0 && byteAt(reported - 1) == first) {
                return reported - 1;
            }
            throw new IllegalStateException("token offset does not point at '" + first + "'");
        }

        synchronized byte byteAt(long offset) {
            CompositeByteBuf body = chunks;
            if (body == null) {
                throw gone();
            }
            return body.getByte(body.readerIndex() + (int) offset);
        }

        synchronized ScannedBody finish() {
            scanner().finish();
            return this;
        }

        /** The body, now the caller's; the parse is done with. */
        synchronized ByteBuf detach() {
            ByteBuf out = chunks;
            if (out == null) {
                throw gone();
            }
            chunks = null;
            scanner = null;
            return out;
        }

        private static IllegalStateException gone() {
            return new IllegalStateException("the request body was already detached or discarded");
        }

        synchronized void discard() {
            if (scanner != null) {
                scanner.close();
                scanner = null;
            }
            if (chunks != null) {
                chunks.release();
                chunks = null;
            }
        }
    }

    /** A constant: Spring's filter chain labels every call of every filter with it, on every request. */
    @Override
    public String toString() {
        return "RequestBodyWebFilter";
    }
}
