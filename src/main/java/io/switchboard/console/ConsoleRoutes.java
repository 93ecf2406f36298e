package io.switchboard.console;

import java.net.URI;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.ClassPathResource;
import org.springframework.core.io.Resource;
import org.springframework.http.CacheControl;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;

/**
 * {@code /console} and {@code /console/} answer the console's page; its scripts, styles and the
 * vendored chart library are plain static resources under {@code /console/**}. The page itself holds
 * no data and no secret, so it is served without authentication; everything it shows comes from
 * {@code /admin/**} with the admin key the user types in.
 */
@Configuration(proxyBeanMethods = false)
public class ConsoleRoutes {

    static final String PATH = "/console";

    private static final Resource INDEX = new ClassPathResource("static/console/index.html");

    @Bean
    RouterFunction<ServerResponse> consoleRouter() {
        return RouterFunctions.route()
                // Relative links in the page resolve against the trailing slash.
                .GET(
                        PATH,
                        request -> ServerResponse.permanentRedirect(URI.create(PATH + "/"))
                                .build())
                .GET(
                        PATH + "/",
                        request -> ServerResponse.ok()
                                .contentType(MediaType.TEXT_HTML)
                                .cacheControl(CacheControl.noCache())
                                .bodyValue(INDEX))
                .build();
    }
}
