package io.switchboard.proxy;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.switchboard.errors.ErrorCode;
import io.switchboard.errors.GatewayException;
import io.switchboard.errors.OpenAiErrorBody;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.netty.NettyPipeline;
import reactor.netty.http.server.HttpServer;

/**
 * The answers Reactor Netty gives by itself, before any filter runs, to a request it cannot read: a
 * header block over {@code server.max-http-request-header-size} (431), a request line too long
 * (414), a malformed request (400); Reactor Netty answers no other status this way. They come without a body or a request id; here they get the
 * gateway's OpenAI-shaped error and an {@code X-Request-Id}, like every other refusal. Recognized as
 * an error response without a body and without the request id that every answer of the gateway's
 * own carries.
 *
 * <p>Why by hand: Reactor Netty offers no hook for these answers; this handler sits between its
 * HTTP codec and its request handling, one instance shared by every connection.
 */
@ChannelHandler.Sharable
public final class DecoderRefusals extends ChannelOutboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(DecoderRefusals.class);

    static final String NAME = "switchboard.decoderRefusals";
    private static final DecoderRefusals INSTANCE = new DecoderRefusals();

    private DecoderRefusals() {}

    public static HttpServer installOn(HttpServer server) {
        return server.doOnChannelInit((observer, channel, remoteAddress) -> {
            ChannelPipeline pipeline = channel.pipeline();
            if (pipeline.get(NettyPipeline.HttpCodec) != null) {
                pipeline.addAfter(NettyPipeline.HttpCodec, NAME, INSTANCE);
            }
        });
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof FullHttpResponse refusal
                && refusal.content().readableBytes() == 0
                && !refusal.headers().contains(RequestIdWebFilter.HEADER)) {
            GatewayException error = errorFor(refusal.status().code());
            if (error != null) {
                ctx.write(shaped(refusal, error), promise);
                return;
            }
        }
        ctx.write(msg, promise);
    }

    /** The answer to each status Reactor Netty refuses a request with; null for any other. */
    private static @Nullable GatewayException errorFor(int status) {
        return switch (status) {
            case 400 -> GatewayException.of(ErrorCode.INVALID_REQUEST, "The request could not be read as HTTP.");
            case 414 -> GatewayException.of(ErrorCode.URI_TOO_LONG, "The request's URL is too long.");
            case 431 -> GatewayException.of(ErrorCode.HEADERS_TOO_LARGE, "The request's header fields are too large.");
            default -> null;
        };
    }

    private static FullHttpResponse shaped(FullHttpResponse refusal, GatewayException error) {
        String requestId = RequestIdWebFilter.newId();
        String message = error.getMessage();
        // The request's one log line, as the access log writes for every other request.
        log.info(
                "{} refused by the HTTP server: {} {}",
                requestId,
                refusal.status().code(),
                message);
        byte[] body = OpenAiErrorBody.render(error.code(), message, null, requestId);
        FullHttpResponse shaped =
                new DefaultFullHttpResponse(refusal.protocolVersion(), refusal.status(), Unpooled.wrappedBuffer(body));
        shaped.headers().set(refusal.headers());
        shaped.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(RequestIdWebFilter.HEADER, requestId);
        refusal.release();
        return shaped;
    }
}
