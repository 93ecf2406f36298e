package io.switchboard.proxy;

import io.switchboard.exchange.GatewayExchange;
import io.switchboard.exchange.PipelineOrder;
import io.switchboard.exchange.ProxyEndpoint;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;

/**
 * Gives every request an id (the client's {@code X-Request-Id} when it is sane, else a new one),
 * sets it on the response before anything else can answer, and attaches the request state.
 */
@Component
@Order(PipelineOrder.REQUEST_ID)
public class RequestIdWebFilter implements WebFilter {

    public static final String HEADER = "X-Request-Id";
    private static final Logger ACCESS = LoggerFactory.getLogger("io.switchboard.access");
    private static final int MAX_LENGTH = 128;
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        String id = sane(exchange.getRequest().getHeaders().getFirst(HEADER));
        if (id == null) {
            id = newId();
        }
        GatewayExchange state = new GatewayExchange(
                id,
                ProxyEndpoint.forPath(exchange.getRequest().getPath().value()),
                System.nanoTime(),
                System.currentTimeMillis());
        GatewayExchange.attach(exchange, state);
        exchange.getResponse().getHeaders().set(HEADER, id);
        return chain.filter(exchange).doFinally(signal -> accessLog(exchange, state, signal));
    }

    /** One line per request, through the asynchronous appender: never a header value or a body. */
    private static void accessLog(ServerWebExchange exchange, GatewayExchange state, SignalType signal) {
        if (!ACCESS.isInfoEnabled()) {
            return;
        }
        var status = exchange.getResponse().getStatusCode();
        ACCESS.info(
                "{} {} {} {} {}ms{}{}",
                state.requestId(),
                exchange.getRequest().getMethod().name(),
                exchange.getRequest().getPath().value(),
                signal == SignalType.CANCEL || state.clientClosed()
                        ? "client_closed"
                        : (status == null ? "-" : status.value()),
                (System.nanoTime() - state.startNanos()) / 1_000_000,
                state.request() == null ? "" : " model=" + state.request().model(),
                state.caller() == null ? "" : " key=" + state.caller().name());
    }

    /** A client's id is kept only if short and made of plain characters: it is echoed and logged. */
    static @org.jspecify.annotations.Nullable String sane(@org.jspecify.annotations.Nullable String candidate) {
        if (candidate == null || candidate.isEmpty() || candidate.length() > MAX_LENGTH) {
            return null;
        }
        for (int i = 0; i < candidate.length(); i++) {
            char c = candidate.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || c == '-'
                    || c == '_'
                    || c == '.'
                    || c == ':';
            if (!ok) {
                return null;
            }
        }
        return candidate;
    }

    /**
     * 128 random bits as 32 hex characters. ThreadLocalRandom, not SecureRandom: the id is not a
     * secret, and SecureRandom may block on an event loop.
     */
    static String newId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        char[] out = new char[32];
        long a = random.nextLong();
        long b = random.nextLong();
        for (int i = 0; i < 16; i++) {
            out[i] = HEX[(int) (a >>> (60 - 4 * i)) & 0xf];
            out[16 + i] = HEX[(int) (b >>> (60 - 4 * i)) & 0xf];
        }
        return new String(out);
    }

    /** A constant: Spring's filter chain labels every call of every filter with it, on every request. */
    @Override
    public String toString() {
        return "RequestIdWebFilter";
    }
}
