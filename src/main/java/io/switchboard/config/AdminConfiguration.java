package io.switchboard.config;

import io.switchboard.admin.AdminCredential;
import io.switchboard.admin.AdminKeyHandler;
import io.switchboard.admin.AdminProperties;
import io.switchboard.keys.KeyRepository;
import io.switchboard.keys.KeyService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.ServerResponse;

/** The admin API's routes; their protection is in {@link SecurityConfiguration}. */
@Configuration(proxyBeanMethods = false)
class AdminConfiguration {

    private static final Logger log = LoggerFactory.getLogger(AdminConfiguration.class);

    @Bean
    RouterFunction<ServerResponse> adminRoutes(
            AdminProperties admin, KeyService keys, KeyRepository repository, DatabaseClient db) {
        if (admin.enabled()) {
            log.info("Admin API enabled at /admin/** (credential {})", new AdminCredential(admin.key()).id());
        } else {
            log.info("Admin API disabled: set GATEWAY_ADMIN_KEY (or gateway.admin.key) to enable /admin/**");
        }
        return AdminKeyHandler.create(keys, repository, db, KeysConfiguration.CLOCK)
                .routes();
    }
}
