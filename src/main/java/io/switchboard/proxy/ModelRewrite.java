package io.switchboard.proxy;

import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.stereotype.Component;

/** The alias table and the default model, read from configuration once. */
@Component
public class ModelRewrite {

    private final Map<String, String> aliases;
    private final @Nullable String defaultModel;

    public ModelRewrite(ModelProperties properties) {
        this.aliases = Map.copyOf(properties.aliases());
        this.defaultModel =
                properties.defaultModel() == null || properties.defaultModel().isBlank()
                        ? null
                        : properties.defaultModel();
    }

    /** The upstream name of {@code requested}: its alias target, or itself. */
    public String rewrite(String requested) {
        return aliases.getOrDefault(requested, requested);
    }

    public @Nullable String defaultModel() {
        return defaultModel;
    }
}
