package io.switchboard.proxy;

import java.nio.ByteBuffer;

/**
 * A streaming check that a body is well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates,
 * nothing past U+10FFFF, no sequence cut short, with a sequence allowed to span chunks. Jackson's
 * non-blocking parser decodes overlong forms as the ASCII they spell ({@code C1 A5} as 'e'), so
 * the gateway read {@code "mod\xC1\xA5l"} as {@code "model"} where upstreams read another name:
 * the two could see different models. Written by hand: the JDK's decoder would allocate its output
 * for every chunk, and Guava's check is not streaming; this is a loop over the bytes, ASCII eight
 * at a time.
 */
final class Utf8Check {

    private static final long HIGH_BITS = 0x8080_8080_8080_8080L;

    /** Continuation bytes still expected of the current sequence. */
    private int needed;
    /** The range the next continuation byte must be in (narrower after E0, ED, F0 and F4). */
    private int lower = 0x80;

    private int upper = 0xBF;

    /** Reads the chunk without moving its position; false at the first byte UTF-8 cannot have there. */
    boolean accept(ByteBuffer chunk) {
        int i = chunk.position();
        int end = chunk.limit();
        while (i < end) {
            if (needed == 0 && end - i >= Long.BYTES && (chunk.getLong(i) & HIGH_BITS) == 0) {
                i += Long.BYTES;
                continue;
            }
            if (!next(chunk.get(i) & 0xFF)) {
                return false;
            }
            i++;
        }
        return true;
    }

    /** Whether the body ended between sequences. */
    boolean complete() {
        return needed == 0;
    }

    private boolean next(int b) {
        if (needed > 0) {
            if (b < lower || b > upper) {
                return false;
            }
            lower = 0x80;
            upper = 0xBF;
            needed--;
            return true;
        }
        if (b < 0x80) {
            return true;
        }
        if (b >= 0xC2 && b <= 0xDF) {
            needed = 1;
        } else if (b >= 0xE0 && b <= 0xEF) {
            needed = 2;
            lower = b == 0xE0 ? 0xA0 : 0x80;
            upper = b == 0xED ? 0x9F : 0xBF;
        } else if (b >= 0xF0 && b <= 0xF4) {
            needed = 3;
            lower = b == 0xF0 ? 0x90 : 0x80;
            upper = b == 0xF4 ? 0x8F : 0xBF;
        } else {
            return false;
        }
        return true;
    }
}
