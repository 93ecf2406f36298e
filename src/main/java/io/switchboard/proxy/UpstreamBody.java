package io.switchboard.proxy;

import io.netty.buffer.ByteBuf;
import org.jspecify.annotations.Nullable;
import org.springframework.web.server.ServerWebExchange;

/**
 * The prepared upstream body of one request, held between the body filter and the relay. The relay
 * sends a retained duplicate (again for a resend) and releases the body once the upstream has
 * answered; the body filter releases it when the exchange ends, if that did not happen first.
 */
final class UpstreamBody {

    private static final String ATTRIBUTE = UpstreamBody.class.getName();

    private @Nullable ByteBuf body;

    private UpstreamBody(ByteBuf body) {
        this.body = body;
    }

    static UpstreamBody attach(ServerWebExchange exchange, ByteBuf body) {
        UpstreamBody holder = new UpstreamBody(body);
        exchange.getAttributes().put(ATTRIBUTE, holder);
        return holder;
    }

    static @Nullable UpstreamBody find(ServerWebExchange exchange) {
        return exchange.getAttribute(ATTRIBUTE);
    }

    synchronized int length() {
        return body == null ? 0 : body.readableBytes();
    }

    /** A retained duplicate for one send; null once released. */
    synchronized @Nullable ByteBuf retainedDuplicate() {
        return body == null ? null : body.retainedDuplicate();
    }

    synchronized void release() {
        if (body != null) {
            body.release();
            body = null;
        }
    }
}
