package io.switchboard.upstream;

import io.netty.channel.ChannelOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.netty.http.HttpProtocol;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.resources.LoopResources;

/**
 * The configured upstreams in declaration order, with the rule that picks one for a model. Built
 * once; the data plane only reads it. The client can never name an upstream URL: every base URL
 * comes from configuration.
 */
public final class ProviderRegistry implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ProviderRegistry.class);

    private final List<Provider> providers;
    private final List<UpstreamClients> clientSets = new ArrayList<>();

    private final @Nullable LoopResources loops;

    public ProviderRegistry(Map<String, ProviderProperties> configured) {
        this(configured, null);
    }

    /** @param loops the event loops the upstream clients run on; null for Reactor Netty's global ones */
    public ProviderRegistry(Map<String, ProviderProperties> configured, @Nullable LoopResources loops) {
        this.loops = loops;
        refuseASecondCatchAll(configured);
        List<Provider> built = new ArrayList<>();
        configured.forEach((name, props) -> {
            // Refused, not left out: the requests for its models would go to another provider
            // (the catch-all, OpenRouter), with what they hold, instead of where they were meant to.
            if (props.baseUrl() == null) {
                throw new IllegalStateException("gateway.providers." + name
                        + ".base-url is not set: every provider needs the URL of its API root");
            }
            built.add(build(name, props));
        });
        // Providers that name their models are asked first, so a catch-all (OpenRouter) can be
        // declared anywhere without shadowing them; the sort is stable, keeping declaration order.
        built.sort(java.util.Comparator.comparing(Provider::isCatchAll));
        this.providers = Collections.unmodifiableList(built);
    }

    /**
     * Two providers without {@code models} both claim every model, and only the one Spring's
     * property order puts first was ever asked: one added on the command line silently took all of
     * OpenRouter's traffic, or one added in a file silently got none.
     */
    private static void refuseASecondCatchAll(Map<String, ProviderProperties> configured) {
        List<String> catchAll = configured.entrySet().stream()
                .filter(entry -> entry.getValue().models().isEmpty())
                .map(Map.Entry::getKey)
                .sorted()
                .toList();
        if (catchAll.size() > 1) {
            throw new IllegalStateException("gateway.providers." + String.join(", gateway.providers.", catchAll)
                    + " set no models, so each would serve every model; only one provider may: give the"
                    + " others their models (e.g. gateway.providers." + catchAll.get(1) + ".models=local/*)");
        }
    }

    private Provider build(String name, ProviderProperties props) {
        StreamUsage usage = props.streamUsage() != null
                ? props.streamUsage()
                : ("openrouter".equals(name) ? StreamUsage.ALWAYS : StreamUsage.ON_REQUEST);
        boolean secure = props.baseUrl().getScheme().equals("https");
        UpstreamClients clients = new UpstreamClients(
                () -> ConnectionProvider.builder("upstream-" + name)
                        // Per pool, so per event loop: see UpstreamClients.
                        .maxConnections(props.maxConnections())
                        // Streams hold a connection for minutes: never queue a request behind them.
                        .pendingAcquireMaxCount(-1)
                        .pendingAcquireTimeout(props.connectTimeout().plus(Duration.ofSeconds(5)))
                        .maxIdleTime(props.maxIdleTime())
                        .evictInBackground(props.maxIdleTime())
                        .build(),
                client -> configure(client, props, secure),
                loops);
        clientSets.add(clients);
        Provider provider = new Provider(name, props, usage, clients);
        log.info(
                "Upstream '{}' at {} (credential {}, stream usage {})",
                name,
                props.baseUrl(),
                props.hasApiKey() ? "set" : "not set",
                usage.name().toLowerCase(java.util.Locale.ROOT));
        return provider;
    }

    private static HttpClient configure(HttpClient client, ProviderProperties props, boolean secure) {
        HttpClient configured = client.protocol(HttpProtocol.HTTP11)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int)
                        props.connectTimeout().toMillis())
                .followRedirect(false)
                // Not Reactor Netty's resend: it fires on a connection reset only, and decides by
                // whether the headers were sent. The proxy resends once itself, only a request that
                // was not written out whole (UpstreamAttempt): a generation sent twice is billed
                // twice. Stale connections are avoided too: max-idle-time stays below the
                // upstream's keep-alive.
                .disableRetry(true)
                .compress(false)
                .keepAlive(true)
                // A new channel joins the request that asked for it, so that request can abandon
                // the connect if it ends first; a request written out whole is never resent (see
                // UpstreamAttempt).
                .doOnChannelInit(
                        (observer, channel, address) -> UpstreamAttempt.started(observer.currentContext(), channel))
                .doAfterRequest((request, connection) -> UpstreamAttempt.written(request.currentContextView()));
        return secure ? configured.secure() : configured;
    }

    /** The provider that serves {@code model}: the first with matching patterns, else the first catch-all. */
    public @Nullable Provider forModel(String model) {
        for (Provider provider : providers) {
            if (provider.serves(model)) {
                return provider;
            }
        }
        return null;
    }

    public @Nullable Provider byName(String name) {
        for (Provider provider : providers) {
            if (provider.name().equals(name)) {
                return provider;
            }
        }
        return null;
    }

    /** The provider of requests that name no model (the proxied {@code GET}s): the first catch-all, else the first provider. */
    public @Nullable Provider primary() {
        for (Provider provider : providers) {
            if (provider.isCatchAll()) {
                return provider;
            }
        }
        return providers.isEmpty() ? null : providers.get(0);
    }

    public List<Provider> all() {
        return providers;
    }

    @Override
    public void close() {
        clientSets.forEach(UpstreamClients::close);
    }
}
