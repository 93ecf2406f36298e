package io.switchboard.exchange;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What the gateway learned from one request body in its single parsing pass.
 *
 * @param endpoint the data-plane operation
 * @param requestedModel the model the client named (or the configured default)
 * @param model the model sent upstream, after alias rewrite
 * @param fallbackModels OpenRouter's {@code models} array after rewrite; empty when absent
 * @param stream whether the client asked for server-sent events
 * @param maxTokens the client's {@code max_tokens} / {@code max_completion_tokens} (the larger when
 *     both are given), if any
 * @param choices the client's {@code n}: how many choices the answer holds (1 when not given)
 * @param promptTokenEstimate a cheap estimate of prompt tokens (bytes of the body / 4)
 * @param usageRequested whether the client itself asked for a usage event in the stream
 * @param usageInjected whether the gateway added {@code stream_options.include_usage} upstream (so the
 *     usage-only event must not reach the client)
 */
public record ProxyRequest(
        ProxyEndpoint endpoint,
        String requestedModel,
        String model,
        List<String> fallbackModels,
        boolean stream,
        @Nullable Long maxTokens,
        int choices,
        long promptTokenEstimate,
        boolean usageRequested,
        boolean usageInjected) {

    /**
     * The most completion tokens the answer may hold: the limit per choice ({@code whenUnset} if the
     * client set none) times the choices, for reservations that must cover the worst case.
     */
    public long completionCeiling(long whenUnset) {
        long perChoice = maxTokens != null ? maxTokens : whenUnset;
        long all = perChoice * choices;
        return choices != 0 && all / choices != perChoice ? Long.MAX_VALUE : all;
    }

    /** Every model this request may be served by: the model and each fallback. */
    public List<String> allModels() {
        if (fallbackModels.isEmpty()) {
            return List.of(model);
        }
        var all = new java.util.ArrayList<String>(fallbackModels.size() + 1);
        all.add(model);
        all.addAll(fallbackModels);
        return all;
    }
}
