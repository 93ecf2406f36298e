package io.switchboard.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.switchboard.errors.ClosedConnection;
import io.switchboard.errors.ErrorCode;
import io.switchboard.errors.ErrorResponses;
import io.switchboard.errors.GatewayException;
import io.switchboard.exchange.GatewayExchange;
import io.switchboard.exchange.HeaderCharacterRules;
import io.switchboard.exchange.PipelineOrder;
import io.switchboard.exchange.ProxyEndpoint;
import io.switchboard.exchange.ProxyRequest;
import io.switchboard.upstream.Provider;
import io.switchboard.upstream.ProviderRegistry;
import io.switchboard.upstream.StreamUsage;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.core.annotation.Order;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.NettyDataBuffer;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;
import reactor.netty.channel.AbortedException;
import reactor.netty.http.server.HttpServerRequest;
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
    private final Duration bodyIdleTimeout;
    private final JsonFactory json;
    private final ModelRewrite models;
    private final ProviderRegistry providers;
    private final ByteBufAllocator alloc;
    private final LoopTimers timers;

    @Autowired
    RequestBodyWebFilter(
            BodyLimitProperties limits, ModelRewrite models, ProviderRegistry providers, LoopTimers timers) {
        this(limits, models, providers, timers, ByteBufAllocator.DEFAULT);
    }

    RequestBodyWebFilter(
            BodyLimitProperties limits,
            ModelRewrite models,
            ProviderRegistry providers,
            LoopTimers timers,
            ByteBufAllocator alloc) {
        this.alloc = alloc;
        this.timers = timers;
        this.maxBodySize = limits.maxBodySize().toBytes();
        this.bodyIdleTimeout = limits.bodyIdleTimeout();
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
        HttpHeaders headers = exchange.getRequest().getHeaders();
        long declared = headers.getContentLength();
        if (declared > maxBodySize) {
            return ErrorResponses.write(exchange, tooLarge());
        }
        if (!forwardable(exchange.getRequest())) {
            return ErrorResponses.write(
                    exchange,
                    GatewayException.of(ErrorCode.INVALID_REQUEST, "A request header holds control characters."));
        }
        return read(exchange)
                // A client that hung up while sending its body: nothing to answer, and not the
                // gateway's failure (it was an "Unhandled error", a 500 in the metrics).
                .onErrorResume(RequestBodyWebFilter::clientLeft, gone -> {
                    state.clientClosed(true);
                    return Mono.empty();
                })
                // Let go of the read's operators once the body is in: the flatMaps below keep their
                // finished source for as long as the exchange lasts (a stream: minutes).
                .onTerminateDetach()
                .flatMap(scanned -> prepare(exchange, endpoint, scanned))
                .flatMap(body -> chain.filter(exchange).doFinally(signal -> body.release()));
    }

    /** The whole body, parsed as it arrives; each chunk is kept (not copied) for the splice. */
    private Mono<ScannedBody> read(ServerWebExchange exchange) {
        return Mono.defer(() -> {
            // No limit on the pieces: past its limit Netty copies the whole composite into one buffer,
            // each time, which a body sent in tiny chunks made quadratic; ScannedBody.add keeps the
            // number of pieces in proportion to the body's size instead.
            ScannedBody scanned =
                    new ScannedBody(new RequestBodyScanner(json), alloc.compositeBuffer(Integer.MAX_VALUE), alloc);
            return exchange.getRequest()
                    .getBody()
                    // The server's inbound keeps its subscriber for as long as the connection is
                    // open (a stream: minutes): cut there, so it keeps none of the read's operators.
                    .onTerminateDetach()
                    // A client that stops sending its body: the server's own idle timeout runs only
                    // between requests, so its exchange and what it sent were held for good. The
                    // timer is the serving loop's own: Reactor's shared timer takes a lock to
                    // cancel, on every chunk (LoopTimers).
                    .timeout(
                            bodyIdleTimeout,
                            Mono.error(this::stalled),
                            timers.on(ServingLoop.of(exchange.getRequest())))
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

    /** The answer to a body that stopped arriving; the connection closes after it, the rest unread. */
    private GatewayException stalled() {
        HttpHeaders close = new HttpHeaders();
        close.setConnection("close");
        return GatewayException.withHeaders(
                ErrorCode.REQUEST_TIMEOUT,
                "The request body stopped arriving: nothing came for " + bodyIdleTimeout.toSeconds() + " s.",
                close);
    }

    /**
     * Whether every header value passes the security firewall's rule. The proxy copies the headers
     * through the underlying map, which the firewall does not watch: a value it would refuse
     * reached the upstream, or (read later for the attribution) failed the upstream call with a 502.
     */
    private static boolean forwardable(ServerHttpRequest request) {
        if (ServingLoop.nativeRequest(request) instanceof HttpServerRequest server) {
            // Netty's own entries: no list per name, no copy of the names (Spring's view builds both).
            Iterator<Map.Entry<CharSequence, CharSequence>> entries =
                    server.requestHeaders().iteratorCharSequence();
            while (entries.hasNext()) {
                if (!HeaderCharacterRules.allowedValue(entries.next().getValue())) {
                    return false;
                }
            }
            return true;
        }
        for (List<String> values : request.getHeaders().asMultiValueMap().values()) {
            for (String value : values) {
                if (!HeaderCharacterRules.allowedValue(value)) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Reactor Netty ends the body of a client that hung up with a plain {@link AbortedException}. */
    private static boolean clientLeft(Throwable error) {
        return error instanceof AbortedException || ClosedConnection.is(error);
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

        /** A chunk smaller than this, past the first pieces, is copied in with its neighbours. */
        private static final int SMALL_CHUNK = 4096;

        /** Pieces kept as they came before small ones are copied together: a body usually has one to three. */
        private static final int PIECES_AS_THEY_CAME = 16;

        private static final int COPY_CAPACITY = 16 * 1024;

        private static final int COPY_START = 512;

        private final ByteBufAllocator alloc;
        private @Nullable RequestBodyScanner scanner;
        private @Nullable CompositeByteBuf chunks;
        /** Small chunks copied together, not yet a piece of {@link #chunks}. */
        private @Nullable ByteBuf copied;

        ScannedBody(RequestBodyScanner scanner, CompositeByteBuf chunks, ByteBufAllocator alloc) {
            this.scanner = scanner;
            this.chunks = chunks;
            this.alloc = alloc;
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
            long size = (long) chunks.readableBytes() + (copied == null ? 0 : copied.readableBytes());
            if (size + buf.readableBytes() > max) {
                DataBufferUtils.release(chunk);
                throw tooLarge();
            }
            // Parsed before it is kept: a piece added to the composite is the composite's to free.
            try {
                scanner().feed(buf.nioBuffer());
            } catch (RuntimeException e) {
                DataBufferUtils.release(chunk);
                throw e;
            }
            if (buf.readableBytes() < SMALL_CHUNK && chunks.numComponents() >= PIECES_AS_THEY_CAME) {
                // A body in many small chunks (a client writing a byte at a time) becomes pieces
                // of 16 KiB, so the pieces stay in proportion to the body's size.
                try {
                    copyIn(buf);
                } finally {
                    DataBufferUtils.release(chunk);
                }
                return;
            }
            endCopy();
            chunks.addComponent(true, buf);
        }

        private void copyIn(ByteBuf small) {
            ByteBuf into = copied;
            if (into != null && into.maxWritableBytes() < small.readableBytes()) {
                endCopy();
                into = null;
            }
            if (into == null) {
                // Grown as it fills: a piece ended early by a large chunk holds what it got, not
                // 16 KiB (a client alternating tiny and large chunks made each tiny one cost that).
                into = alloc.buffer(COPY_START, COPY_CAPACITY);
                copied = into;
            }
            into.writeBytes(small, small.readerIndex(), small.readableBytes());
        }

        /** The small chunks copied so far become the body's next piece. */
        private void endCopy() {
            ByteBuf done = copied;
            if (done != null && chunks != null) {
                copied = null;
                chunks.addComponent(true, done);
            }
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
            endCopy();
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
            if (copied != null) {
                copied.release();
                copied = null;
            }
        }
    }

    /** A constant: Spring's filter chain labels every call of every filter with it, on every request. */
    @Override
    public String toString() {
        return "RequestBodyWebFilter";
    }
}
