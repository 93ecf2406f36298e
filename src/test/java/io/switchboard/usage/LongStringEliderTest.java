package io.switchboard.usage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class LongStringEliderTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** Feeds {@code document} in pieces of {@code piece} bytes and returns what the parser would see. */
    private static String elided(String document, int keep, int piece) {
        LongStringElider elider = new LongStringElider(keep);
        byte[] bytes = document.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < bytes.length; i += piece) {
            elider.feed(bytes, i, Math.min(piece, bytes.length - i), (b, from, to) -> out.write(b, from, to - from));
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 7, 1000})
    void longStringsAreCutAndTheDocumentStaysValidJson(int piece) {
        String content = "é\\\"\\u00e9\\\\x".repeat(40) + "€".repeat(50);
        String document = "{\"id\":\"gen-1\",\"choices\":[{\"message\":{\"content\":\"" + content
                + "\"}}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}";
        String seen = elided(document, 32, piece);
        JsonNode parsed = JSON.readTree(seen);
        assertThat(parsed.at("/id").asString()).isEqualTo("gen-1");
        assertThat(parsed.at("/usage/completion_tokens").asInt()).isEqualTo(4);
        String cut = parsed.at("/choices/0/message/content").asString();
        assertThat(cut).hasSizeBetween(5, 40);
        assertThat(JSON.readTree(document).at("/choices/0/message/content").asString())
                .startsWith(cut);
    }

    @Test
    void shortStringsPassUntouched() {
        String document = "{\"a\":\"short\",\"b\":[\"x\\\"y\"],\"c\":1}";
        assertThat(elided(document, 64, 5)).isEqualTo(document);
    }
}
