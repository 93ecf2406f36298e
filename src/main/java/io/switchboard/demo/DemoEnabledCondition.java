package io.switchboard.demo;

import io.switchboard.upstream.ProviderProperties;
import java.util.Map;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * {@code gateway.demo.enabled} when set; otherwise on exactly when no provider has an api-key, so a
 * newcomer without credentials gets a working gateway and a configured deployment never gets a demo.
 */
public final class DemoEnabledCondition extends SpringBootCondition {

    @Override
    public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
        Binder binder = Binder.get(context.getEnvironment());
        Boolean explicit = binder.bind("gateway.demo.enabled", Boolean.class).orElse(null);
        if (explicit != null) {
            return new ConditionOutcome(explicit, "gateway.demo.enabled=" + explicit);
        }
        Map<String, ProviderProperties> providers = binder.bind(
                        "gateway.providers", Bindable.mapOf(String.class, ProviderProperties.class))
                .orElse(Map.of());
        boolean anyKey = providers.values().stream().anyMatch(ProviderProperties::hasApiKey);
        return new ConditionOutcome(
                !anyKey, anyKey ? "a provider api-key is configured" : "no provider api-key is configured");
    }
}
