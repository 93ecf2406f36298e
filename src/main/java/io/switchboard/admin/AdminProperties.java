package io.switchboard.admin;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code gateway.admin.*}.
 *
 * @param key the admin API's bearer secret (also {@code GATEWAY_ADMIN_KEY}); none: the admin API
 *     answers 404
 */
@ConfigurationProperties("gateway.admin")
public record AdminProperties(@Nullable String key) {

    public boolean enabled() {
        return key != null && !key.isBlank();
    }

    @Override
    public String toString() {
        return "AdminProperties[key=" + (enabled() ? "*****" : "none") + "]";
    }
}
