package io.switchboard.usage;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.FastThreadLocal;

/**
 * One reusable byte array per thread that the usage scanners copy a buffer's bytes into. Each open
 * stream used to keep an array of its own (512 bytes for the event scanner, the chunk's size for a
 * body) for as long as it stayed open, most of what the usage filter kept per idle stream. The scanners
 * read the copy to its end before they return, so the next copy on the same thread may overwrite it.
 */
final class ScanScratch {

    /** Larger copies get an array of their own: one 10 MB event must not pin 10 MB to an event loop. */
    static final int KEEP_MAX = 64 * 1024;

    private static final FastThreadLocal<byte[]> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected byte[] initialValue() {
            return new byte[4096];
        }
    };

    private ScanScratch() {}

    /**
     * The buffer's readable bytes, from index 0 of the returned array; the buffer is not consumed.
     * The array is valid until this thread's next call.
     */
    static byte[] copy(ByteBuf buffer) {
        int length = buffer.readableBytes();
        byte[] scratch = SCRATCH.get();
        if (scratch.length < length) {
            scratch = new byte[length];
            if (length <= KEEP_MAX) {
                SCRATCH.set(scratch);
            }
        }
        buffer.getBytes(buffer.readerIndex(), scratch, 0, length);
        return scratch;
    }
}
