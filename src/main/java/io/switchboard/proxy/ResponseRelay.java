package io.switchboard.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.switchboard.errors.ErrorCode;
import io.switchboard.errors.GatewayException;
import io.switchboard.errors.OpenAiErrorBody;
import io.switchboard.exchange.ExchangeOutcome;
import io.switchboard.exchange.GatewayExchange;
import io.switchboard.upstream.PerEventLoop;
import io.switchboard.upstream.UpstreamResponseHeaders;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.NettyDataBufferFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ReactiveHttpOutputMessage;
import org.springframework.http.support.Netty4HeadersAdapter;
import org.springframework.stereotype.Component;
import org.springframework.web.reactive.function.BodyInserter;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;
import reactor.netty.Connection;
import reactor.netty.http.client.HttpClientResponse;

/**
 * Relays an upstream answer to the client as it arrives. Server-sent events go through event by
 * event, each flushed at once, with a comment while the upstream is silent; other bodies stream
 * through chunk by chunk. Nothing is aggregated except an upstream error body (bounded), which is
 * checked so that a load balancer's HTML page never reaches an OpenAI client.
 */
@Component
public class ResponseRelay {

    private static final Logger log = LoggerFactory.getLogger(ResponseRelay.class);
    private static final int MAX_ERROR_BODY = 256 * 1024;
    private static final String EMPTY_ANSWER = "The upstream answered without a body.";
    private static final String EMPTY_STREAM = "The upstream ended the stream without sending anything.";
    /** Ends any line and then the event, whether the bytes before end mid-line, in CR or in LF. */
    private static final byte[] EVENT_END = {'\n', '\n'};
    /** Wraps Netty buffers for Spring's writers; shared with {@link Heartbeats}. */
    static final NettyDataBufferFactory BUFFERS = new NettyDataBufferFactory(io.netty.buffer.ByteBufAllocator.DEFAULT);

    private final long heartbeatNanos;
    private final int maxEventSize;
    private final PerEventLoop<HeartbeatWheel> wheels;

    public ResponseRelay(StreamingProperties streaming) {
        Duration heartbeat = streaming.heartbeat();
        this.heartbeatNanos = heartbeat.toNanos();
        this.wheels = new PerEventLoop<>(loop -> new HeartbeatWheel(loop, heartbeat));
        this.maxEventSize =
                (int) Math.min(Integer.MAX_VALUE, streaming.maxEventSize().toBytes());
    }

    Mono<ServerResponse> respond(
            GatewayExchange state, HttpClientResponse response, Connection connection, ExchangeObservers observers) {
        int status = response.status().code();
        HttpHeaders upstreamHeaders = new HttpHeaders(new Netty4HeadersAdapter(response.responseHeaders()));
        observers.onUpstreamResponse(status, upstreamHeaders);
        // Redirects are not followed, and their Location is not the client's business. A status
        // outside HTTP's final ones (a broken upstream) is no answer either: passed on, 1000 and up
        // failed the response's writing with a 500, its body unreleased.
        boolean redirect = status >= 300 && status < 400;
        if (redirect || status < 200 || status > 599) {
            connection.dispose();
            GatewayException error = GatewayException.of(
                    ErrorCode.UPSTREAM_ERROR,
                    redirect
                            ? "The upstream answered with a redirect."
                            : "The upstream answered with a status HTTP does not have.");
            observers.finish(new ExchangeOutcome(ExchangeOutcome.Kind.UPSTREAM_UNREACHABLE, 502, error.getMessage()));
            return Mono.error(error);
        }
        MediaType type = contentType(upstreamHeaders);
        if (status >= 400) {
            return relayError(state, status, type, response, connection, observers);
        }
        boolean sse = type != null && MediaType.TEXT_EVENT_STREAM.isCompatibleWith(type);
        ServerResponse.BodyBuilder builder = ServerResponse.status(status).headers(client -> {
            UpstreamResponseHeaders.copy(response.responseHeaders(), client, !sse);
            if (sse) {
                client.setCacheControl("no-cache");
                client.set("X-Accel-Buffering", "no");
            }
        });
        Flux<ByteBuf> in = connection.inbound().receive().retain();
        BodyInserter<Void, ReactiveHttpOutputMessage> body = sse
                ? streamEvents(state, status, in, connection, observers)
                : streamBody(status, upstreamHeaders.getContentLength(), in, connection, observers);
        // Read for the last time: the client's copy is made and the observers have seen them. Reactor
        // Netty keeps the map for as long as the answer streams (it decided keep-alive on arrival).
        response.responseHeaders().clear();
        return builder.body(body);
    }

    /**
     * A non-streaming answer: chunk by chunk, observers shown each chunk, nothing held. When the
     * first chunk is the whole body (its declared length; a small JSON answer usually is), it goes
     * out with the headers in one write: a body given as a stream of chunks makes the server flush
     * the headers on their own first, one more send on the socket per request. Only the first chunk
     * is awaited, as it is for any body, since the response is committed with it.
     */
    private BodyInserter<Void, ReactiveHttpOutputMessage> streamBody(
            int status, long length, Flux<ByteBuf> in, Connection connection, ExchangeObservers observers) {
        return (message, context) -> {
            Flux<DataBuffer> chunks = in.map(chunk -> {
                        observers.onBodyChunk(chunk);
                        observers.onFirstByte();
                        return (DataBuffer) BUFFERS.wrap(chunk);
                    })
                    // Named for the client: before the first chunk nothing is committed yet, and the
                    // client gets a 502 rather than an unhandled 500 (after it, the answer is cut).
                    .onErrorMap(UpstreamFailures::midway)
                    .doOnError(error -> {
                        // Before the first chunk the client gets this error's status (502, 504),
                        // not the upstream's 200: the ledger and the metrics must say the same.
                        if (!observers.sawFirstByte() && error instanceof GatewayException failed) {
                            connection.dispose();
                            observers.finish(new ExchangeOutcome(
                                    ExchangeOutcome.Kind.UPSTREAM_FAILED_MIDWAY,
                                    failed.code().status().value(),
                                    failed.getMessage()));
                        }
                    })
                    .doFinally(signal -> {
                        if (signal == SignalType.ON_COMPLETE && !observers.sawFirstByte()) {
                            observers.finish(
                                    new ExchangeOutcome(ExchangeOutcome.Kind.UPSTREAM_UNREACHABLE, 502, EMPTY_ANSWER));
                        } else {
                            finish(signal, status, connection, observers, false);
                        }
                    })
                    // A 2xx without a byte of body is no answer to any of the endpoints (all answer
                    // JSON): a 502, as for any malformed answer, rather than an empty 200 that
                    // clients fail to parse. Nothing is committed yet.
                    .switchIfEmpty(Mono.error(() -> GatewayException.of(ErrorCode.UPSTREAM_ERROR, EMPTY_ANSWER)));
            if (length <= 0) {
                return message.writeWith(chunks.doOnDiscard(Object.class, ResponseRelay::releaseDiscarded));
            }
            return chunks.switchOnFirst((first, all) -> {
                        DataBuffer head = first.get();
                        Publisher<DataBuffer> body = head != null && head.readableByteCount() == length
                                // The rest can only be empty: the declared length is all there.
                                ? all.reduce((whole, empty) -> {
                                    DataBufferUtils.release(empty);
                                    return whole;
                                })
                                : all;
                        return message.writeWith(body);
                    })
                    .then()
                    .doOnDiscard(Object.class, ResponseRelay::releaseDiscarded);
        };
    }

    /** Server-sent events: whole events, flushed one chunk at a time, with heartbeats in the silences. */
    private BodyInserter<Void, ReactiveHttpOutputMessage> streamEvents(
            GatewayExchange state, int status, Flux<ByteBuf> in, Connection connection, ExchangeObservers observers) {
        return (message, context) -> {
            SseEventSplitter splitter = new SseEventSplitter(maxEventSize);
            // Heartbeats from the wheel of the upstream connection's loop, where its events arrive.
            Heartbeats heartbeats =
                    new Heartbeats(wheels.on(connection.channel().eventLoop()), heartbeatNanos, splitter::atBoundary);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Flux<DataBuffer> events = events(in, splitter, heartbeats::touch, observers, state.requestId(), failure)
                    .doFinally(signal -> {
                        heartbeats.end();
                        splitter.discard();
                    });
            Flux<DataBuffer> out = heartbeats
                    .mergedWith(events)
                    .doOnRequest(SentHeaders.of(message))
                    .doFinally(signal -> finish(signal, status, connection, observers, failure.get() != null))
                    .doOnDiscard(Object.class, ResponseRelay::releaseDiscarded);
            // A plain write, not one flush group per event: the server's sender flushes as soon as
            // it has written all it was given, so each event still leaves at once, without the
            // per-event group (a Mono, a concat and a boundary marker) and the group queue that
            // every open stream would otherwise keep.
            return message.writeWith(out);
        };
    }

    /**
     * The upstream's chunks as the client's buffers: whole events (or pieces of an oversized one),
     * then, if the upstream failed, an error event and the error ({@code failure} holds it from the
     * moment it is known, also for a client that leaves before it is relayed). The upstream's failure waits
     * behind the events already read: split from a chunk the upstream sent before it failed, they
     * were held for a client that was not reading at that moment, and a plain error overtook and
     * dropped them (the answer's last content, its finish reason, its usage).
     */
    static Flux<DataBuffer> events(
            Flux<ByteBuf> in,
            SseEventSplitter splitter,
            Runnable onChunk,
            ExchangeObservers observers,
            String requestId,
            AtomicReference<Throwable> failure) {
        return in.onErrorResume(error -> {
                    failure.set(error);
                    return Mono.empty();
                })
                .concatMapIterable(
                        chunk -> {
                            onChunk.run();
                            return kept(splitter.split(chunk), observers);
                        },
                        1)
                .concatWith(Mono.defer(() -> {
                    Throwable upstreamFailure = failure.get();
                    return upstreamFailure != null
                            ? Mono.error(upstreamFailure)
                            : Mono.justOrEmpty(remainder(splitter, observers));
                }))
                // A stream that ended without a byte answered nothing, yet would end cleanly: the
                // client is told, as for a non-streaming answer without a body. (One whose only
                // event the gateway kept back, an unasked-for usage event, did answer.)
                .switchIfEmpty(Mono.defer(() -> splitter.sawBytes()
                        ? Mono.empty()
                        : Mono.error(GatewayException.of(ErrorCode.UPSTREAM_ERROR, EMPTY_STREAM))))
                .onErrorResume(error -> {
                    GatewayException cut = UpstreamFailures.midway(error);
                    failure.compareAndSet(null, cut);
                    boolean midEvent = splitter.midEvent();
                    splitter.discard();
                    log.info("{} stream cut: {}", requestId, cut.getMessage());
                    byte[] event = OpenAiErrorBody.renderEvent(cut.code(), cut.getMessage(), requestId);
                    // After part of an oversized event: end its line and the event (broken, as it
                    // is) so the error is an event of its own.
                    ByteBuf bytes = midEvent ? Unpooled.wrappedBuffer(EVENT_END, event) : Unpooled.wrappedBuffer(event);
                    // Error after the event: the connection is aborted, so the client also sees an
                    // incomplete response, never a clean end.
                    return Flux.<DataBuffer>just(BUFFERS.wrap(bytes)).concatWith(Mono.error(cut));
                })
                .doOnNext(buffer -> observers.onFirstByte());
    }

    /** The pieces of one chunk that go to the client, as one buffer (one flush); empty if none. */
    private static List<DataBuffer> kept(List<SseEventSplitter.Piece> pieces, ExchangeObservers observers) {
        if (pieces.isEmpty()) {
            return List.of();
        }
        ByteBuf out = null;
        CompositeByteBuf many = null;
        for (SseEventSplitter.Piece piece : pieces) {
            if (piece.wholeEvent() && !observers.onEvent(piece.bytes())) {
                piece.bytes().release();
                continue;
            }
            if (out == null) {
                out = piece.bytes();
            } else {
                if (many == null) {
                    many = Unpooled.compositeBuffer(pieces.size());
                    many.addComponent(true, out);
                    out = many;
                }
                many.addComponent(true, piece.bytes());
            }
        }
        return out == null ? List.of() : List.of(BUFFERS.wrap(out));
    }

    /**
     * An event the upstream left without its blank line when it ended the stream, relayed as it
     * came. Clients drop such an event (the SSE rule), but a usage report in it is what the upstream
     * counted, so the observers see it like any whole event. (Held bytes are never part of an
     * oversized event: those go out as they arrive.)
     */
    private static @Nullable DataBuffer remainder(SseEventSplitter splitter, ExchangeObservers observers) {
        ByteBuf rest = splitter.remainder();
        if (rest == null) {
            return null;
        }
        if (!observers.onEvent(rest)) {
            rest.release();
            return null;
        }
        return BUFFERS.wrap(rest);
    }

    private static void finish(
            SignalType signal, int status, Connection connection, ExchangeObservers observers, boolean failed) {
        switch (signal) {
            case ON_COMPLETE -> observers.finish(new ExchangeOutcome(ExchangeOutcome.Kind.COMPLETED, status, null));
            case ON_ERROR -> {
                observers.finish(new ExchangeOutcome(
                        ExchangeOutcome.Kind.UPSTREAM_FAILED_MIDWAY, status, "upstream failed mid-answer"));
                connection.dispose();
            }
            default -> {
                // The client left (cancel): stop reading and close the upstream connection now, so the
                // upstream stops generating (and billing) as soon as possible.
                connection.dispose();
                observers.finish(new ExchangeOutcome(
                        failed ? ExchangeOutcome.Kind.UPSTREAM_FAILED_MIDWAY : ExchangeOutcome.Kind.CLIENT_CLOSED,
                        status,
                        null));
            }
        }
    }

    /**
     * An upstream error status: its body is read (bounded) and passed through when it is a JSON
     * object; otherwise (an HTML page, an empty body) it becomes an OpenAI-shaped error with the same
     * status that does not echo the page.
     */
    private Mono<ServerResponse> relayError(
            GatewayExchange state,
            int status,
            MediaType type,
            HttpClientResponse response,
            Connection connection,
            ExchangeObservers observers) {
        return connection
                .inbound()
                .receive()
                .retain()
                .collect(() -> Unpooled.compositeBuffer(64), (CompositeByteBuf all, ByteBuf chunk) -> {
                    if (all.readableBytes() > MAX_ERROR_BODY) {
                        chunk.release();
                    } else {
                        all.addComponent(true, chunk);
                    }
                })
                .timeout(Duration.ofSeconds(30))
                .onErrorResume(error -> Mono.just(Unpooled.compositeBuffer(1)))
                // A client that leaves while the body is still read: its exchange ends here (the
                // proxy's own cancel hook lies before the headers). Reactor Netty closes the
                // connection whose body was left unread.
                .doOnCancel(
                        () -> observers.finish(new ExchangeOutcome(ExchangeOutcome.Kind.CLIENT_CLOSED, status, null)))
                // A timeout, a reset or a client that leaves discards the part collected so far (and
                // a chunk on its way): released here, not leaked.
                .doOnDiscard(Object.class, ResponseRelay::releaseDiscarded)
                .flatMap(body -> {
                    ServerResponse.BodyBuilder builder = ServerResponse.status(status)
                            .headers(client -> UpstreamResponseHeaders.copy(response.responseHeaders(), client, false));
                    DataBuffer out;
                    if (body.readableBytes() <= MAX_ERROR_BODY && JsonObjectSniffer.isJsonObject(type, body)) {
                        observers.onBodyChunk(body);
                        out = BUFFERS.wrap(body);
                    } else {
                        body.release();
                        connection.dispose();
                        ErrorCode code = status >= 500 ? ErrorCode.UPSTREAM_ERROR : ErrorCode.INVALID_REQUEST;
                        byte[] bytes = OpenAiErrorBody.render(
                                code,
                                "The upstream answered " + status + " without a usable error body.",
                                null,
                                state.requestId());
                        out = BUFFERS.wrap(Unpooled.wrappedBuffer(bytes));
                        builder.contentType(MediaType.APPLICATION_JSON);
                    }
                    builder.contentLength(out.readableByteCount());
                    return builder.body((message, context) -> message.writeWith(Mono.just(out))
                            .doFinally(signal -> observers.finish(new ExchangeOutcome(
                                    signal == SignalType.CANCEL
                                            ? ExchangeOutcome.Kind.CLIENT_CLOSED
                                            : ExchangeOutcome.Kind.UPSTREAM_ERROR_STATUS,
                                    status,
                                    "upstream answered " + status))));
                });
    }

    /**
     * Releases what an operator dropped on cancel: upstream chunks still queued (ByteBuf) and
     * buffers prepared for the client but not written (DataBuffer).
     */
    private static void releaseDiscarded(Object discarded) {
        if (discarded instanceof DataBuffer buffer) {
            DataBufferUtils.release(buffer);
        } else if (discarded instanceof io.netty.util.ReferenceCounted counted && counted.refCnt() > 0) {
            counted.release();
        }
    }

    private static MediaType contentType(HttpHeaders headers) {
        try {
            return headers.getContentType();
        } catch (RuntimeException e) {
            return null;
        }
    }
}
