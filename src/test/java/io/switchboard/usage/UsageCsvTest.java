package io.switchboard.usage;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Rows whose text holds the CSV's own separators, or reads as a spreadsheet formula. */
class UsageCsvTest {

    @Test
    void separatorsQuotesAndLineBreaksStayInsideTheirFieldAndFormulasAreDefused() {
        String key = "team \"a\", west\nfloor 2";
        List<String> models = List.of("=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "plain/model");
        for (String model : models) {
            UsageRecord row = UsageFixtures.record(key, model, 1, 2, "0.5", Instant.parse("2026-11-01T00:00:00Z"));
            String line = UsageCsv.line(row);

            assertThat(line).endsWith("\r\n");
            List<String> fields = parse(line.substring(0, line.length() - 2));
            List<String> header = parse(UsageCsv.HEADER.strip());
            assertThat(fields).hasSameSizeAs(header);
            assertThat(fields.get(header.indexOf("key_id"))).isEqualTo(key);
            String expected = "=+-@".indexOf(model.charAt(0)) >= 0 ? "'" + model : model;
            assertThat(fields.get(header.indexOf("model"))).isEqualTo(expected);
            assertThat(fields.get(header.indexOf("cost_usd"))).isEqualTo("0.5");
        }
    }

    /** RFC 4180, as a spreadsheet reads one record: quoted fields may hold commas, quotes and line breaks. */
    private static List<String> parse(String record) {
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < record.length(); i++) {
            char c = record.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < record.length() && record.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    field.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                fields.add(field.toString());
                field.setLength(0);
            } else {
                field.append(c);
            }
        }
        fields.add(field.toString());
        return fields;
    }
}
