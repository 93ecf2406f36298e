package io.switchboard.usage;

/**
 * Cuts the middle out of long JSON strings before the usage scanner's parser sees them. Jackson's
 * non-blocking parser gathers a whole string before it hands it over, and it has no way to skip one
 * unread, so a 50 MB answer would sit whole in its text buffer only for the scanner to find the
 * {@code usage} object after it. Nothing the scanner keeps is longer than a few hundred characters:
 * each string is cut after {@code keep} bytes, at a byte that starts neither inside an escape nor
 * inside a UTF-8 character, so the parser still reads valid JSON. Written by hand because no JSON
 * library at hand skips string content while parsing in pieces.
 */
final class LongStringElider {

    /** Receives the bytes to parse, as ranges of the array passed to {@link #feed}. */
    @FunctionalInterface
    interface Sink {
        void accept(byte[] bytes, int from, int to);
    }

    private static final int AFTER_BACKSLASH = -1;

    private final int keep;
    private boolean inString;
    /** 0 outside an escape, {@link #AFTER_BACKSLASH}, or the hex digits of a {@code \}{@code u} still to come. */
    private int escape;

    private long stringLength;
    private boolean dropping;

    LongStringElider(int keep) {
        this.keep = keep;
    }

    void feed(byte[] bytes, int offset, int length, Sink sink) {
        int keptFrom = offset;
        int end = offset + length;
        for (int i = offset; i < end; i++) {
            byte b = bytes[i];
            if (!inString) {
                if (b == '"') {
                    inString = true;
                    stringLength = 0;
                }
                continue;
            }
            if (!dropping && escape == 0 && stringLength >= keep && b != '"' && (b & 0xC0) != 0x80) {
                if (i > keptFrom) {
                    sink.accept(bytes, keptFrom, i);
                }
                dropping = true;
            }
            stringLength++;
            if (escape == AFTER_BACKSLASH) {
                escape = b == 'u' ? 4 : 0;
            } else if (escape > 0) {
                escape--;
            } else if (b == '\\') {
                escape = AFTER_BACKSLASH;
            } else if (b == '"') {
                inString = false;
                if (dropping) {
                    dropping = false;
                    keptFrom = i;
                }
            }
        }
        if (!dropping && end > keptFrom) {
            sink.accept(bytes, keptFrom, end);
        }
    }
}
