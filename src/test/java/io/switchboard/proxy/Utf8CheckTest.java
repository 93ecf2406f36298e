package io.switchboard.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The streaming check judges every byte sequence, however it is split, as the JDK's strict decoder does. */
class Utf8CheckTest {

    @Test
    void judgesRandomBytesSplitAnywhereAsTheJdksDecoderDoes() {
        Random random = new Random(42);
        for (int n = 0; n < 50_000; n++) {
            byte[] bytes = new byte[random.nextInt(24)];
            for (int i = 0; i < bytes.length; i++) {
                // Mostly bytes that start or continue sequences, some ASCII: the boundaries matter.
                bytes[i] = (byte) (random.nextInt(4) == 0 ? random.nextInt(0x80) : 0x80 + random.nextInt(0x80));
            }
            int split = bytes.length == 0 ? 0 : random.nextInt(bytes.length + 1);
            Utf8Check check = new Utf8Check();
            boolean accepted = check.accept(ByteBuffer.wrap(bytes, 0, split))
                    && check.accept(ByteBuffer.wrap(bytes, split, bytes.length - split))
                    && check.complete();

            assertThat(accepted)
                    .as("%s split at %d", java.util.HexFormat.of().formatHex(bytes), split)
                    .isEqualTo(jdkAccepts(bytes));
        }
    }

    @Test
    void aChunkIsReadWithoutMovingItsPosition() {
        ByteBuffer chunk = ByteBuffer.wrap("{\"model\":\"openai/gpt-5-nano\"} é".getBytes(StandardCharsets.UTF_8));
        chunk.position(2);

        assertThat(new Utf8Check().accept(chunk)).isTrue();
        assertThat(chunk.position()).isEqualTo(2);
    }

    private static boolean jdkAccepts(byte[] bytes) {
        try {
            StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }
}
