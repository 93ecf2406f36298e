package io.switchboard.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.switchboard.exchange.GatewayExchange;
import io.switchboard.exchange.ProxyEndpoint;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.http.HttpStatus;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import reactor.core.publisher.Mono;

class MetricsWebFilterTest {

    /** {@code gateway.metrics.enabled=false} turns the per-request filter off (it was read and ignored). */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void theFilterCountsRequestsOnlyWhenEnabled(boolean enabled) {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        MetricsProperties properties = new MetricsProperties(enabled, 100, 100);
        MetricsWebFilter filter = new MetricsWebFilter(new GatewayMeters(registry, properties), properties);
        MockServerWebExchange exchange = MockServerWebExchange.from(MockServerHttpRequest.post("/v1/chat/completions"));
        GatewayExchange.attach(
                exchange,
                new GatewayExchange(
                        "req-1", ProxyEndpoint.CHAT_COMPLETIONS, System.nanoTime(), System.currentTimeMillis()));

        filter.filter(exchange, served -> {
                    served.getResponse().setStatusCode(HttpStatus.OK);
                    return Mono.empty();
                })
                .block();

        assertThat(registry.find("switchboard.requests").counters()).hasSize(enabled ? 1 : 0);
    }
}
