package io.switchboard.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.errors.GatewayErrorWebExceptionHandler;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.web.reactive.handler.WebFluxResponseStatusExceptionHandler;
import org.springframework.web.server.WebExceptionHandler;
import org.springframework.web.server.adapter.WebHttpHandlerBuilder;
import reactor.core.publisher.Mono;

/** The error handlers each request carries: the gateway's and those before it, none after. */
class ErrorHandlerListTest {

    private final WebExceptionHandler before = (exchange, ex) -> Mono.error(ex);
    private final GatewayErrorWebExceptionHandler gateway = new GatewayErrorWebExceptionHandler();
    private final WebFluxResponseStatusExceptionHandler after = new WebFluxResponseStatusExceptionHandler();

    @Test
    void handlersAfterTheGatewaysAreLeftOut() {
        assertThat(customized(List.of(before, gateway, after))).containsExactly(before, gateway);
    }

    @Test
    void withoutTheGatewaysHandlerTheListIsKept() {
        assertThat(customized(List.of(before, after))).containsExactly(before, after);
    }

    private List<WebExceptionHandler> customized(List<WebExceptionHandler> handlers) {
        WebHttpHandlerBuilder builder = WebHttpHandlerBuilder.webHandler(exchange -> Mono.empty())
                .exceptionHandlers(list -> list.addAll(handlers));
        new WebPipelineConfiguration().onlyTheGatewaysErrorHandler().customize(builder);
        List<WebExceptionHandler> out = new ArrayList<>();
        builder.exceptionHandlers(out::addAll);
        return out;
    }
}
