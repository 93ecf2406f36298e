package io.switchboard.config;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import org.springframework.boot.actuate.endpoint.jackson.EndpointJsonMapper;
import org.springframework.boot.health.actuate.endpoint.SystemHealthDescriptor;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;
import tools.jackson.databind.json.JsonMapper;

/**
 * The actuator's JSON: Spring Boot's own settings (nulls left out), except that the root health
 * answer does not list the health groups. The contract promises {@code GET /actuator/health}
 * answers {@code {"status":"UP"}}; with the liveness and readiness groups on, Spring Boot adds
 * {@code "groups":["liveness","readiness"]}, which a client comparing the whole body would reject.
 * The groups still answer at {@code /actuator/health/liveness} and {@code /actuator/health/readiness}.
 */
@Configuration(proxyBeanMethods = false)
class ActuatorConfiguration {

    /** Primary: Spring Boot defines its own, unconditionally, which this one replaces. */
    @Bean
    @Primary
    EndpointJsonMapper switchboardEndpointJsonMapper() {
        JsonMapper mapper = JsonMapper.builder()
                .changeDefaultPropertyInclusion(inclusion -> inclusion
                        .withValueInclusion(JsonInclude.Include.NON_NULL)
                        .withContentInclusion(JsonInclude.Include.NON_NULL))
                .addMixIn(SystemHealthDescriptor.class, WithoutGroupNames.class)
                .build();
        return () -> mapper;
    }

    @JsonIgnoreProperties("groups")
    private abstract static class WithoutGroupNames {}
}
