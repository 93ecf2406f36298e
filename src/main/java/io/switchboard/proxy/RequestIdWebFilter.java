package io.switchboard.proxy;

import io.switchboard.exchange.GatewayExchange;
import io.switchboard.exchange.PipelineOrder;
import java.util.concurrent.ThreadLocalRandom;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * Gives every request an id (the client's {@code X-Request-Id} when it is sane, else a new one),
 * sets it on the response before anything else can answer, and attaches the request state.
 */
@Component
@Order(PipelineOrder.REQUEST_ID)
public class RequestIdWebFilter implements WebFilter {

    public static final String HEADER = "X-Request-Id";
    private static final int MAX_LENGTH = 128;
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        String id = sane(exchange.getRequest().getHeaders().getFirst(HEADER));
        if (id == null) {
            id = newId();
        }
        GatewayExchange.attach(exchange, new GatewayExchange(id, System.nanoTime(), System.currentTimeMillis()));
        exchange.getResponse().getHeaders().set(HEADER, id);
        return chain.filter(exchange);
    }

    /** A client's id is kept only if short and made of plain characters: it is echoed and logged. */
    static String sane(String candidate) {
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
}
