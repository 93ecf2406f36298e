package io.switchboard.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.switchboard.errors.ErrorCode;
import io.switchboard.errors.GatewayException;
import io.switchboard.keys.KeyEdit;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Collections;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/** Input that fits the rules but not the columns is refused here, as a 400, rather than by the database. */
class KeyRequestReaderTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final KeyRequestReader reader =
            new KeyRequestReader(Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC));

    private KeyEdit update(String json) {
        return reader.update(JSON.readTree(json));
    }

    private void assertRefused(String json, String param) {
        assertThatThrownBy(() -> update(json)).as(json).isInstanceOfSatisfying(GatewayException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
            assertThat(e.param()).isEqualTo(param);
        });
    }

    /** {@code models} is stored as a JSON array in a VARCHAR(4000) column. */
    private static String models(int count) {
        String pattern = "\"" + "m".repeat(199) + "*\"";
        return "{\"models\":[" + String.join(",", Collections.nCopies(count, pattern)) + "]}";
    }

    @Test
    void modelsThatDoNotFitTheColumnAreRefused() {
        // 19 patterns of 200 characters are 3,858 as stored; 20 are 4,061.
        assertThat(update(models(19)).fields()).containsExactly("models");
        assertRefused(models(20), "models");
    }

    @Test
    void aBudgetTooLargeForADoubleIsRefused() {
        assertRefused("{\"budget_usd\":1e400}", "budget_usd");
        assertRefused("{\"budget_usd\":-1e400}", "budget_usd");
        assertThat(update("{\"budget_usd\":5.25}").fields()).containsExactly("budget_usd");
    }

    @Test
    void anExpiryPastTheYear9999IsRefused() {
        assertRefused("{\"expires_at\":\"+999999999-12-31T23:59:59Z\"}", "expires_at");
        assertRefused("{\"expires_at\":\"+10000-01-01T00:00:00Z\"}", "expires_at");
        assertThat(update("{\"expires_at\":\"9999-12-31T23:59:59Z\"}").fields()).containsExactly("expires_at");
    }

    @Test
    void labelNamesWithControlCharactersAreRefusedAsValuesAre() {
        assertRefused("{\"metadata\":{\"a\\u0000b\":\"x\"}}", "metadata");
        assertRefused("{\"metadata\":{\"a\\nb\":\"x\"}}", "metadata");
        assertRefused("{\"metadata\":{\"team\":\"a\\u0000b\"}}", "metadata.team");
        assertThat(update("{\"metadata\":{\"équipe\":\"b\"}}").metadata()).containsEntry("équipe", "b");
    }
}
