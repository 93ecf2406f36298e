import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.time.Duration;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.resources.ConnectionProvider;

/**
 * The floor of the gateway's stack: a relay on Reactor Netty alone (the server and client the
 * gateway runs on), with none of the gateway's work: no Spring, no key check, no limits, no usage,
 * no body scan. It streams the request body to the upstream and the answer back, copying the
 * content type and setting the upstream's credential, as Spring Cloud Gateway's routing filter
 * does. Whatever the gateway costs above this relay is Spring's and the gateway's own; what this
 * relay costs above nginx is the stack's.
 *
 * <p>Usage: {@code java BareRelay <port> <upstream base URL>} (0 picks a port); prints {@code
 * PORT=<n>}. A request to {@code /api/v1/chat/completions} goes to {@code <base>/chat/completions}.
 */
public final class BareRelay {

    public static void main(String[] args) {
        int port = Integer.parseInt(args[0]);
        String base = args[1];
        ConnectionProvider pool = ConnectionProvider.builder("relay")
                .maxConnections(10_000)
                .pendingAcquireMaxCount(-1)
                .maxIdleTime(Duration.ofSeconds(20))
                .build();
        HttpClient client = HttpClient.create(pool).option(ChannelOption.TCP_NODELAY, true);
        DisposableServer server = HttpServer.create()
                .host("127.0.0.1")
                .port(port)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .handle((request, response) -> relay(client, base, request, response))
                .bindNow();
        System.out.println("PORT=" + server.port());
        System.out.flush();
        server.onDispose().block();
    }

    private static Mono<Void> relay(
            HttpClient client, String base, HttpServerRequest request, HttpServerResponse response) {
        String path = request.path();
        int v1 = path.indexOf("v1/");
        String target = base + "/" + (v1 < 0 ? path : path.substring(v1 + 3));
        String contentType = request.requestHeaders().get(HttpHeaderNames.CONTENT_TYPE, "application/json");
        return client.headers(h -> h.set(HttpHeaderNames.CONTENT_TYPE, contentType)
                        .set(HttpHeaderNames.AUTHORIZATION, "Bearer upstream-key"))
                .request(request.method())
                .uri(target)
                .send(request.receive().retain())
                .response((upstream, body) -> {
                    response.status(upstream.status());
                    HttpHeaders in = upstream.responseHeaders();
                    copy(in, response, HttpHeaderNames.CONTENT_TYPE);
                    copy(in, response, HttpHeaderNames.CONTENT_LENGTH);
                    copy(in, response, HttpHeaderNames.CACHE_CONTROL);
                    // Flush each piece as it comes: streams must never be held back.
                    return response.send(body.retain(), b -> true);
                })
                .then();
    }

    private static void copy(HttpHeaders from, HttpServerResponse to, CharSequence name) {
        String value = from.get(name);
        if (value != null) {
            to.header(name, value);
        }
    }
}
