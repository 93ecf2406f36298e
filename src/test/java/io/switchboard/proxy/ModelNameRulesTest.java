package io.switchboard.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which model names the body scanner lets through: every real one, nothing that reads as a path or URL. */
class ModelNameRulesTest {

    @ParameterizedTest
    @ValueSource(
            strings = {
                "openai/gpt-5-nano",
                "anthropic/claude-3.5-sonnet:beta",
                "meta-llama/llama-3.1-8b-instruct:free",
                "openrouter/auto",
                "gpt-4o-mini",
                "demo/chat",
                "x/.hidden",
                "a/b.",
                "...",
                "a..b/c",
                "vendor/model:tag/with:colon",
                "qwen/通义千问",
                "x/emoji\ud83d\ude00"
            })
    void realNamesPass(String name) {
        assertThat(RequestBodyScanner.plausibleModelName(name)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "openai/../anthropic/x",
                "../x",
                "x/..",
                "./x",
                "x/./y",
                "x/.",
                ".",
                "..",
                "http://evil.example/v1",
                "x://y",
                "a\\b",
                "openai/gpt 5",
                "openai/gpt\t5",
                "openai/gpt\n5",
                "openai/gpt\r\nX-Injected: 1",
                "x\u0000y",
                "x\u00a0y",
                "openai/gpt\u202e5-nano",
                "openai/gpt\u200b-5-nano",
                "\ufeffopenai/gpt-5-nano",
                "openai/gpt-5-nano\udb40\udc01\udb40\udc41",
                "openai/gpt\ud800-5"
            })
    void pathsUrlsAndControlCharactersAreRefused(String name) {
        assertThat(RequestBodyScanner.plausibleModelName(name)).isFalse();
    }
}
