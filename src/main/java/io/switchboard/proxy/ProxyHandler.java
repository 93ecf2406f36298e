package io.switchboard.proxy;

import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpMethod;
import io.switchboard.errors.ErrorCode;
import io.switchboard.errors.GatewayException;
import io.switchboard.exchange.Attribution;
import io.switchboard.exchange.CallerKey;
import io.switchboard.exchange.ExchangeObserverFactory;
import io.switchboard.exchange.ExchangeOutcome;
import io.switchboard.exchange.GatewayExchange;
import io.switchboard.exchange.ProxyEndpoint;
import io.switchboard.exchange.Timeouts;
import io.switchboard.upstream.Provider;
import io.switchboard.upstream.ProviderRegistry;
import io.switchboard.upstream.UpstreamAttempt;
import io.switchboard.upstream.UpstreamRequestHeaders;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.web.reactive.function.server.ServerResponse;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.http.client.HttpClientResponse;

/**
 * The data plane's one handler: sends the prepared request to the chosen upstream and hands the
 * answer to {@link ResponseRelay} the moment its headers arrive. Reads a bounded body that the
 * body filter already parsed; never reads the answer whole.
 */
@Component
public class ProxyHandler {

    private static final Logger log = LoggerFactory.getLogger(ProxyHandler.class);

    private final ProviderRegistry providers;
    private final UpstreamRequestHeaders requestHeaders;
    private final List<ExchangeObserverFactory> observerFactories;
    private final ResponseRelay relay;
    private final LoopTimers timers;

    public ProxyHandler(
            ProviderRegistry providers,
            UpstreamRequestHeaders requestHeaders,
            List<ExchangeObserverFactory> observerFactories,
            ResponseRelay relay,
            LoopTimers timers) {
        this.providers = providers;
        this.requestHeaders = requestHeaders;
        this.observerFactories = List.copyOf(observerFactories);
        this.relay = relay;
        this.timers = timers;
    }

    public Mono<ServerResponse> handle(ServerWebExchange exchange, ProxyEndpoint endpoint) {
        GatewayExchange state = GatewayExchange.of(exchange);
        Provider provider = pickProvider(endpoint, state);
        UpstreamBody body = UpstreamBody.find(exchange);
        if (endpoint.hasBody() && body == null) {
            return Mono.error(GatewayException.of(ErrorCode.INVALID_REQUEST, "The request has no body."));
        }
        ExchangeObservers observers = ExchangeObservers.open(observerFactories, state);
        CallerKey caller = state.caller();
        Attribution attribution = caller == null ? Attribution.NONE : caller.attribution();
        long length = body == null ? -1 : body.length();
        UpstreamAttempt attempt = new UpstreamAttempt();
        // The upstream call and its deadline on the loop serving the client: the request never
        // changes threads (UpstreamClients, LoopTimers).
        EventLoop loop = ServingLoop.of(exchange.getRequest());
        Mono<Upstream> call = provider.httpClientOn(loop)
                .request(endpoint.hasBody() ? HttpMethod.POST : HttpMethod.GET)
                .uri(provider.uriOf(endpoint))
                .send((req, out) -> {
                    // Headers set on the request itself: HttpClient.headers() would copy the client's
                    // whole configuration for every request.
                    requestHeaders.write(
                            exchange.getRequest().getHeaders(),
                            req.requestHeaders(),
                            provider,
                            attribution,
                            state.requestId(),
                            length);
                    // The upstream's silence once it answers; the header deadline is below.
                    out.withConnection(connection -> UpstreamReadTimer.start(connection, provider));
                    // Retained only once the send subscribes: on a connection already closed,
                    // Reactor Netty refuses the send without subscribing, and a duplicate retained
                    // up front was then never released.
                    return body == null ? out : out.send(Mono.fromSupplier(body::retainedDuplicate));
                })
                .responseConnection((response, connection) -> Mono.just(new Upstream(response, connection)))
                .next()
                // Reactor Netty keeps this subscriber for as long as the connection is open: let go
                // of the operators below (retry, timeout, logging) once the headers are in.
                .onTerminateDetach();
        // Once more on another connection when the first closed before the request was written out
        // whole (UpstreamAttempt decides): the upstream cannot have acted on it. A resubscription
        // acquires a new connection and writes the body again from the exchange's own buffer. Only
        // once: onErrorResume does not see the errors of the call it falls back to.
        Mono<Upstream> callOnce = call.onErrorResume(
                error -> attempt.retryable(error) ? retried(call, state, provider, error) : Mono.error(error));
        // An observer may hold the call back (the usage journal until the admission is on disk).
        Mono<Void> ready = observers.beforeUpstream();
        // The doOnCancel before the timeout, so that both a client that left and the timeout itself
        // abandon a connect still in progress. The timer runs on the request's event loop (see
        // LoopTimers): it is cancelled on every answer.
        Mono<Upstream> abandonable = (ready == null ? callOnce : ready.then(callOnce)).doOnCancel(attempt::abandon);
        return Timeouts.within(abandonable, provider.responseTimeout(), timers.on(loop))
                .onErrorMap(UpstreamFailures::beforeHeaders)
                .doOnError(GatewayException.class, e -> {
                    log.info(
                            "{} upstream {} failed before answering: {}",
                            state.requestId(),
                            provider.name(),
                            e.getMessage());
                    observers.finish(UpstreamFailures.outcomeBeforeHeaders(e));
                })
                .doOnCancel(() -> observers.finish(new ExchangeOutcome(ExchangeOutcome.Kind.CLIENT_CLOSED, 0, null)))
                // The flatMap below keeps its finished source for as long as the answer streams: let
                // go of the call's operators (connect, retry, timeout) once the headers are in.
                .onTerminateDetach()
                .flatMap(upstream -> {
                    // The upstream answered: the request is never sent again, so its body (the whole
                    // prompt, image parts included) need not stay in memory while the answer streams.
                    if (body != null) {
                        body.release();
                    }
                    // Nor are its headers read again (redirects are not followed), yet Reactor Netty
                    // keeps their map, a dozen entries, for as long as the answer streams.
                    upstream.response().requestHeaders().clear();
                    return relay.respond(state, upstream.response(), upstream.connection(), observers);
                })
                .contextWrite(attempt::into);
    }

    private static Mono<Upstream> retried(
            Mono<Upstream> call, GatewayExchange state, Provider provider, Throwable error) {
        log.info(
                "{} upstream {} closed the connection before the request was written ({}); sending it once more",
                state.requestId(),
                provider.name(),
                error.getClass().getSimpleName());
        return call;
    }

    private Provider pickProvider(ProxyEndpoint endpoint, GatewayExchange state) {
        Provider provider = null;
        if (endpoint.hasBody() && state.provider() != null) {
            provider = providers.byName(state.provider());
        } else if (!endpoint.hasBody()) {
            provider = providers.primary();
            if (provider != null) {
                state.provider(provider.name());
            }
        }
        if (provider == null) {
            throw GatewayException.of(ErrorCode.UPSTREAM_UNREACHABLE, "No upstream is configured for this request.");
        }
        return provider;
    }

    private record Upstream(HttpClientResponse response, Connection connection) {}
}
