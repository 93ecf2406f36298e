package io.switchboard.config;

import io.micrometer.core.instrument.MeterRegistry;
import io.r2dbc.spi.ConnectionFactory;
import io.switchboard.keys.ApiKeyAuthenticationManager;
import io.switchboard.keys.KeyAuthenticator;
import io.switchboard.keys.KeyCache;
import io.switchboard.keys.KeyChangeBus;
import io.switchboard.keys.KeyRepository;
import io.switchboard.keys.KeyService;
import io.switchboard.keys.KeysProperties;
import io.switchboard.keys.LastUsedRecorder;
import io.switchboard.keys.ModelAccessWebFilter;
import io.switchboard.keys.ModelCatalog;
import io.switchboard.keys.ModelListHandler;
import io.switchboard.keys.PostgresKeyChangeBus;
import io.switchboard.keys.RedisKeyChangeBus;
import io.switchboard.keys.SecretHasher;
import io.switchboard.keys.StaticKeys;
import io.switchboard.storage.SchemaMigrations;
import io.switchboard.upstream.ProviderRegistry;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.ServerResponse;

/** Keys: storage, cache, change announcements, authentication, the per-key model rules and model list. */
@Configuration(proxyBeanMethods = false)
class KeysConfiguration {

    private static final Logger log = LoggerFactory.getLogger(KeysConfiguration.class);

    static final Clock CLOCK = Clock.systemUTC();

    @Bean
    SecretHasher secretHasher(KeysProperties properties) {
        return new SecretHasher(properties.pepper());
    }

    @Bean
    StaticKeys staticKeys(KeysProperties properties, SecretHasher hasher) {
        StaticKeys keys = new StaticKeys(properties.staticKeys(), hasher);
        if (keys.size() > 0) {
            log.info("{} key(s) declared in configuration (gateway.keys.static)", keys.size());
        }
        return keys;
    }

    @Bean
    KeyRepository keyRepository(
            SchemaMigrations migrated, DatabaseClient db, ConnectionFactory connections, MeterRegistry meters) {
        TransactionalOperator tx = TransactionalOperator.create(new R2dbcTransactionManager(connections));
        return new KeyRepository(db, tx, meters);
    }

    @Bean
    KeyCache keyCache(KeysProperties properties, KeyRepository repository) {
        return new KeyCache(properties.cache(), properties.lookupTimeout(), repository::findBySecretHash);
    }

    @Bean(destroyMethod = "close")
    LastUsedRecorder lastUsedRecorder(KeyRepository repository, KeysProperties properties) {
        return new LastUsedRecorder(repository::touch, CLOCK, properties.lastUsedFlush());
    }

    /**
     * Redis's pub/sub when the replicas share a Redis, else PostgreSQL's LISTEN/NOTIFY when they share a
     * PostgreSQL database; an embedded database has one process, whose own cache is dropped at once.
     */
    @Bean
    KeyChangeBus keyChangeBus(
            KeyCache cache,
            KeysProperties properties,
            @Value("${gateway.ratelimit.redis-url:}") String redisUrl,
            ConnectionFactory connections,
            DatabaseClient db) {
        if (!redisUrl.isBlank()) {
            return new RedisKeyChangeBus(cache, redisUrl, properties.redisTimeout());
        }
        if ("PostgreSQL".equalsIgnoreCase(connections.getMetadata().getName())) {
            return new PostgresKeyChangeBus(cache, connections, db, properties.lookupTimeout());
        }
        log.info(
                "Key changes made by another process are seen within {} (neither Redis nor PostgreSQL shared)",
                properties.cache().refresh());
        return KeyChangeBus.local(cache);
    }

    @Bean
    KeyService keyService(KeyRepository repository, SecretHasher hasher, KeyCache cache, KeyChangeBus changes) {
        return new KeyService(repository, hasher, cache, changes, CLOCK);
    }

    @Bean
    KeyAuthenticator keyAuthenticator(
            SecretHasher hasher, StaticKeys staticKeys, KeyCache cache, LastUsedRecorder lastUsed) {
        return new KeyAuthenticator(hasher, staticKeys, cache, lastUsed, CLOCK);
    }

    @Bean
    ApiKeyAuthenticationManager apiKeyAuthenticationManager(KeyAuthenticator authenticator) {
        return new ApiKeyAuthenticationManager(authenticator);
    }

    @Bean
    ModelAccessWebFilter modelAccessWebFilter() {
        return new ModelAccessWebFilter();
    }

    @Bean
    ModelCatalog modelCatalog(ProviderRegistry providers, KeysProperties properties) {
        return new ModelCatalog(providers, properties.modelListTtl());
    }

    /** Ahead of the proxy's routes: {@code GET /v1/models} is answered here, filtered per key. */
    @Bean
    @Order(Ordered.HIGHEST_PRECEDENCE)
    RouterFunction<ServerResponse> modelListRoutes(ModelCatalog catalog) {
        return new ModelListHandler(catalog).routes();
    }
}
