package io.switchboard.upstream;

/** How a provider reports usage at the end of a stream. */
public enum StreamUsage {
    /** Every stream ends with a usage event (OpenRouter). */
    ALWAYS,
    /** Only when asked with {@code stream_options.include_usage} (OpenAI, vLLM). */
    ON_REQUEST
}
