package io.switchboard.keys;

import java.util.List;
import org.springframework.util.PatternMatchUtils;

/** The allowed-models rule of a key: glob patterns ({@code *} matches anything); none allows every model. */
public final class ModelPatterns {

    private ModelPatterns() {}

    public static boolean allows(List<String> patterns, String model) {
        if (patterns.isEmpty()) {
            return true;
        }
        for (String pattern : patterns) {
            if (PatternMatchUtils.simpleMatch(pattern, model)) {
                return true;
            }
        }
        return false;
    }
}
