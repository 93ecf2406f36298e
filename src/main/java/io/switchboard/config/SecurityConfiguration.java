package io.switchboard.config;

import io.switchboard.admin.AdminAuthenticationManager;
import io.switchboard.admin.AdminCredential;
import io.switchboard.admin.AdminProperties;
import io.switchboard.errors.ErrorCode;
import io.switchboard.errors.ErrorResponses;
import io.switchboard.errors.GatewayException;
import io.switchboard.exchange.HeaderCharacterRules;
import io.switchboard.keys.ApiKeyAuthenticationManager;
import io.switchboard.keys.BearerTokenConverter;
import io.switchboard.keys.CallerKeySuccessHandler;
import io.switchboard.keys.KeyAuthenticationFailures;
import io.switchboard.keys.ModelListHandler;
import java.util.Set;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpMethod;
import org.springframework.security.authentication.ReactiveAuthenticationManager;
import org.springframework.security.config.annotation.web.reactive.EnableWebFluxSecurity;
import org.springframework.security.config.observation.SecurityObservationSettings;
import org.springframework.security.config.web.server.SecurityWebFiltersOrder;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.security.web.server.authentication.AuthenticationWebFilter;
import org.springframework.security.web.server.authentication.ServerAuthenticationEntryPointFailureHandler;
import org.springframework.security.web.server.context.NoOpServerSecurityContextRepository;
import org.springframework.security.web.server.firewall.ServerExchangeRejectedHandler;
import org.springframework.security.web.server.firewall.ServerWebExchangeFirewall;
import org.springframework.security.web.server.firewall.StrictServerWebExchangeFirewall;
import org.springframework.security.web.server.util.matcher.NegatedServerWebExchangeMatcher;
import org.springframework.security.web.server.util.matcher.ServerWebExchangeMatcher;
import org.springframework.security.web.server.util.matcher.ServerWebExchangeMatchers;
import org.springframework.web.server.WebFilter;

/**
 * Who may call what. Three chains, tried in order:
 *
 * <ol>
 *   <li>data plane: {@code /v1/**} and {@code /api/v1/**} need {@code Authorization: Bearer sk-gw-...};
 *       first because nearly every request is one, so that it is not matched against the admin paths
 *       before (the two sets of paths do not overlap, so the order changes no answer);
 *   <li>admin: {@code /admin/**} needs the admin key (a data-plane key gets 403; no admin key configured:
 *       404); {@code /actuator/health} and {@code /actuator/prometheus} are open, the rest of
 *       {@code /actuator} needs the admin key;
 *   <li>everything else (the console's static files, unknown paths that end in a 404) is open.
 * </ol>
 *
 * An API, so no session, no CSRF token, no login page, no basic-auth pop-up, no request cache; every
 * refusal is rendered in OpenAI's error shape.
 */
@Configuration(proxyBeanMethods = false)
@EnableWebFluxSecurity
class SecurityConfiguration {

    private static final ServerWebExchangeMatcher ADMIN_PATHS =
            ServerWebExchangeMatchers.pathMatchers("/admin", "/admin/**");
    private static final ServerWebExchangeMatcher OPEN_ACTUATOR =
            ServerWebExchangeMatchers.pathMatchers("/actuator/health", "/actuator/health/**", "/actuator/prometheus");

    /**
     * With Spring Security's observations switched off (the default, application.yml), do not wrap
     * the chains, filters and managers in observation decorators at all: the setting alone only makes
     * each wrapper create a no-op observation, on every request.
     */
    @Bean
    @ConditionalOnProperty(name = "management.observations.enable.spring.security", havingValue = "false")
    static SecurityObservationSettings noSecurityObservations() {
        return SecurityObservationSettings.noObservations();
    }

    /**
     * Spring Security's strict firewall, unchanged in what it refuses, with cheaper header checks;
     * but for the one path whose last part is an id that holds slashes, {@code GET /v1/models/{id}}
     * ({@code openai/gpt-5-nano}), where OpenAI's SDKs encode them ({@code openai%2Fgpt-5-nano}). An
     * encoded slash is allowed there only: anywhere else it could make one path read as another.
     */
    @Bean
    static ServerWebExchangeFirewall firewall() {
        StrictServerWebExchangeFirewall strict = HeaderCharacterRules.firewall();
        StrictServerWebExchangeFirewall modelIds = HeaderCharacterRules.firewall();
        modelIds.setAllowUrlEncodedSlash(true);
        return exchange -> (ModelListHandler.namesOneModel(
                                exchange.getRequest().getPath().value())
                        ? modelIds
                        : strict)
                .getFirewalledExchange(exchange);
    }

    /** The methods Spring Security's strict firewall lets through; it refuses every other. */
    private static final Set<HttpMethod> FIREWALL_METHODS = Set.of(
            HttpMethod.DELETE,
            HttpMethod.GET,
            HttpMethod.HEAD,
            HttpMethod.OPTIONS,
            HttpMethod.PATCH,
            HttpMethod.POST,
            HttpMethod.PUT);

    /**
     * What the firewall refuses (a path with {@code //}, {@code ;}, an encoded slash, ...) gets the
     * OpenAI-shaped 400 every other bad request gets, not Spring Security's bare status; a method it
     * refuses, the 405 of a wrong method.
     */
    @Bean
    static ServerExchangeRejectedHandler rejectedRequests() {
        // A fixed message: Spring Security's reason may quote the refused header or path, which can
        // hold a secret.
        return (exchange, rejected) -> ErrorResponses.write(
                exchange,
                FIREWALL_METHODS.contains(exchange.getRequest().getMethod())
                        ? GatewayException.of(
                                ErrorCode.INVALID_REQUEST, "The request URL or one of its headers is not allowed.")
                        // TRACE, CONNECT or a made-up method: no path takes it, so the 405 every
                        // wrong method gets (the firewall refuses it before the routes can say so).
                        : GatewayException.of(ErrorCode.METHOD_NOT_ALLOWED, "Method not allowed on this path."));
    }

    @Bean
    @Order(2)
    SecurityWebFilterChain adminSecurity(
            ServerHttpSecurity http, AdminProperties admin, ApiKeyAuthenticationManager keys) {
        AdminCredential credential = admin.enabled() ? new AdminCredential(admin.key()) : null;
        KeyAuthenticationFailures failures = new KeyAuthenticationFailures("This key may not use the admin API.");
        AuthenticationWebFilter authentication =
                bearerAuthentication(new AdminAuthenticationManager(credential, keys), failures);
        // A stray Authorization header must not turn an open health check into a 401.
        authentication.setRequiresAuthenticationMatcher(new NegatedServerWebExchangeMatcher(OPEN_ACTUATOR));
        api(http)
                .securityMatcher(ServerWebExchangeMatchers.pathMatchers("/admin", "/admin/**", "/actuator/**"))
                .addFilterAt(authentication, SecurityWebFiltersOrder.AUTHENTICATION)
                .exceptionHandling(
                        handling -> handling.authenticationEntryPoint(failures).accessDeniedHandler(failures))
                .authorizeExchange(auth ->
                        auth.matchers(OPEN_ACTUATOR).permitAll().anyExchange().hasRole("ADMIN"));
        if (credential == null) {
            http.addFilterAt(adminDisabled(), SecurityWebFiltersOrder.FIRST);
        }
        return http.build();
    }

    @Bean
    @Order(1)
    SecurityWebFilterChain dataPlaneSecurity(ServerHttpSecurity http, ApiKeyAuthenticationManager keys) {
        KeyAuthenticationFailures failures = new KeyAuthenticationFailures("This key may not use this endpoint.");
        AuthenticationWebFilter authentication = bearerAuthentication(keys, failures);
        authentication.setAuthenticationSuccessHandler(new CallerKeySuccessHandler());
        return api(http)
                .securityMatcher(ServerWebExchangeMatchers.pathMatchers("/v1/**", "/api/v1/**"))
                // No browser reads these answers: frame, sniffing, XSS and caching headers are for
                // pages (the admin chain keeps them). Spring's writers cost 3% of a request's CPU, and
                // a stream sets its own Cache-Control.
                .headers(ServerHttpSecurity.HeaderSpec::disable)
                .addFilterAt(authentication, SecurityWebFiltersOrder.AUTHENTICATION)
                .exceptionHandling(
                        handling -> handling.authenticationEntryPoint(failures).accessDeniedHandler(failures))
                .authorizeExchange(auth -> auth.anyExchange().authenticated())
                .build();
    }

    @Bean
    @Order(3)
    SecurityWebFilterChain openSecurity(ServerHttpSecurity http) {
        return api(http)
                .authorizeExchange(auth -> auth.anyExchange().permitAll())
                .build();
    }

    private static ServerHttpSecurity api(ServerHttpSecurity http) {
        return http.securityContextRepository(NoOpServerSecurityContextRepository.getInstance())
                .csrf(ServerHttpSecurity.CsrfSpec::disable)
                .httpBasic(ServerHttpSecurity.HttpBasicSpec::disable)
                .formLogin(ServerHttpSecurity.FormLoginSpec::disable)
                .logout(ServerHttpSecurity.LogoutSpec::disable)
                .requestCache(cache -> cache.disable());
    }

    private static AuthenticationWebFilter bearerAuthentication(
            ReactiveAuthenticationManager manager, KeyAuthenticationFailures failures) {
        AuthenticationWebFilter filter = new AuthenticationWebFilter(manager);
        filter.setServerAuthenticationConverter(new BearerTokenConverter());
        filter.setSecurityContextRepository(NoOpServerSecurityContextRepository.getInstance());
        ServerAuthenticationEntryPointFailureHandler failureHandler =
                new ServerAuthenticationEntryPointFailureHandler(failures);
        // A database failure reaches the entry point too, which answers 503 for it.
        failureHandler.setRethrowAuthenticationServiceException(false);
        filter.setAuthenticationFailureHandler(failureHandler);
        return filter;
    }

    /** With no admin key the admin API does not exist: 404, as for any unknown path. */
    private static WebFilter adminDisabled() {
        return (exchange, chain) -> ADMIN_PATHS
                .matches(exchange)
                .flatMap(match -> match.isMatch()
                        ? ErrorResponses.write(
                                exchange,
                                GatewayException.of(
                                        ErrorCode.NOT_FOUND,
                                        "The admin API is disabled; set GATEWAY_ADMIN_KEY to enable it."))
                        : chain.filter(exchange));
    }
}
