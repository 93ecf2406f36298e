package io.switchboard.upstream;

import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The upstreams, {@code gateway.providers.<name>.*}. A request goes to the first provider, in
 * declaration order, whose {@code models} patterns match its model; a provider with no patterns
 * matches every model.
 *
 * @param providers the upstreams by name (openrouter unless configured otherwise)
 */
@ConfigurationProperties("gateway")
public record UpstreamProperties(@DefaultValue Map<String, ProviderProperties> providers) {

    public UpstreamProperties {
        providers = new LinkedHashMap<>(providers);
    }
}
