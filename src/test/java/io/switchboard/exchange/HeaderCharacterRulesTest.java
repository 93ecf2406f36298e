package io.switchboard.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The hand-written header rules accept exactly what Spring Security's strict firewall's expressions accept. */
class HeaderCharacterRulesTest {

    // Spring Security 7's StrictServerWebExchangeFirewall defaults, copied as they are there.
    private static final Pattern NAMES = Pattern.compile("[\\p{IsAssigned}&&[^\\p{IsControl}]]*");
    private static final Pattern VALUES = Pattern.compile("[\\p{IsAssigned}&&[[^\\p{IsControl}]||\\t]]*");

    @Test
    void everyCodePointAloneAndBetweenPrintableTextIsJudgedAsByTheExpressions() {
        for (int codePoint = 0; codePoint <= Character.MAX_CODE_POINT; codePoint++) {
            String alone = new String(Character.toChars(codePoint));
            assertSameVerdict(alone);
            if (codePoint < 0x3000) {
                assertSameVerdict("Bearer sk-" + alone + "x");
            }
        }
    }

    @Test
    void unpairedSurrogatesRandomMixesAndNullAreJudgedAsByTheExpressions() {
        List<String> samples = new ArrayList<>(List.of("", "\uD800", "a\uDC00b", "\uDBFF\uDFFF", "\t", "a\tb", "\r\n"));
        Random random = new Random(7);
        int[] pool = {'a', ' ', '\t', '\n', 0x7f, 0x85, 0xA0, 0x378, 0x4E2D, 0xD83D, 0xDE00, 0xFFFF, 0x1F600, 0xE0001};
        for (int i = 0; i < 20_000; i++) {
            StringBuilder text = new StringBuilder();
            for (int n = random.nextInt(6); n >= 0; n--) {
                text.appendCodePoint(pool[random.nextInt(pool.length)]);
            }
            samples.add(text.toString());
        }
        samples.forEach(HeaderCharacterRulesTest::assertSameVerdict);

        assertThat(HeaderCharacterRules.NAMES.test(null)).isTrue();
        assertThat(HeaderCharacterRules.VALUES.test(null)).isTrue();
    }

    @Test
    void aTabIsAllowedInAValueButNotInAName() {
        assertThat(HeaderCharacterRules.VALUES.test("a\tb")).isTrue();
        assertThat(HeaderCharacterRules.NAMES.test("a\tb")).isFalse();
        assertThat(HeaderCharacterRules.VALUES.test("a\r\nX-Injected: 1")).isFalse();
    }

    // The description is built only for a failure: a million code points pass through here.
    private static void assertSameVerdict(String text) {
        assertThat(HeaderCharacterRules.NAMES.test(text))
                .as(() -> "name " + codePoints(text))
                .isEqualTo(NAMES.matcher(text).matches());
        assertThat(HeaderCharacterRules.VALUES.test(text))
                .as(() -> "value " + codePoints(text))
                .isEqualTo(VALUES.matcher(text).matches());
    }

    private static String codePoints(String text) {
        StringBuilder out = new StringBuilder();
        text.codePoints().forEach(cp -> out.append(String.format("U+%04X ", cp)));
        return out.toString();
    }
}
