package io.switchboard.keys;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.SecureRandom;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ApiKeyFormatTest {

    private final SecureRandom random = new SecureRandom();

    @Test
    void generatedKeysMatchThePublishedRegexAndTheirChecksum() {
        for (int i = 0; i < 200; i++) {
            String key = ApiKeyFormat.generate(random);
            assertThat(key).matches(ApiKeyFormat.REGEX).startsWith("sk-gw-").hasSize(55);
            assertThat(ApiKeyFormat.isWellFormed(key)).isTrue();
        }
    }

    @Test
    void generatedKeysDoNotRepeat() {
        Set<String> keys = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            keys.add(ApiKeyFormat.generate(random));
        }
        assertThat(keys).hasSize(1000);
    }

    @Test
    void aMistypedCharacterIsCaughtByTheChecksum() {
        String key = ApiKeyFormat.generate(random);
        int caught = 0;
        for (int position = ApiKeyFormat.PREFIX.length(); position < key.length(); position++) {
            char original = key.charAt(position);
            char typo = original == 'a' ? 'b' : 'a';
            String mistyped = key.substring(0, position) + typo + key.substring(position + 1);
            if (!ApiKeyFormat.isWellFormed(mistyped)) {
                caught++;
            }
        }
        // CRC32 detects every single-character change.
        assertThat(caught).isEqualTo(key.length() - ApiKeyFormat.PREFIX.length());
    }

    @Test
    void otherShapesAreNotWellFormed() {
        String key = ApiKeyFormat.generate(random);
        assertThat(ApiKeyFormat.isWellFormed("")).isFalse();
        assertThat(ApiKeyFormat.isWellFormed("sk-gw-test-client-key")).isFalse();
        assertThat(ApiKeyFormat.isWellFormed(key.replace("sk-gw-", "sk-or-"))).isFalse();
        assertThat(ApiKeyFormat.isWellFormed(key + "0")).isFalse();
        assertThat(ApiKeyFormat.isWellFormed(key.substring(0, key.length() - 1) + "-"))
                .isFalse();
        assertThat(ApiKeyFormat.isWellFormed(key.toUpperCase(java.util.Locale.ROOT)))
                .isFalse();
    }

    @Test
    void displayPrefixShowsFourCharactersOfTheSecret() {
        String key = ApiKeyFormat.generate(random);
        assertThat(ApiKeyFormat.displayPrefix(key)).isEqualTo(key.substring(0, 10));
    }

    @Test
    void pepperChangesTheStoredHash() {
        String key = ApiKeyFormat.generate(random);
        String plain = new SecretHasher(null).hash(key);
        String peppered = new SecretHasher("server-pepper").hash(key);
        assertThat(plain).hasSize(64).isNotEqualTo(peppered);
        assertThat(new SecretHasher("server-pepper").hash(key)).isEqualTo(peppered);
        assertThat(new SecretHasher("other").hash(key)).isNotEqualTo(peppered);
    }
}
