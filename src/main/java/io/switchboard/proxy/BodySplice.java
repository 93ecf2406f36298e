package io.switchboard.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import tools.jackson.core.io.JsonStringEncoder;

/**
 * Edits a body by splicing bytes: the untouched ranges are slices of the original buffer (no copy),
 * and only the replaced values are new bytes. So every field the gateway does not rewrite reaches
 * the upstream exactly as the client sent it, order and whitespace included.
 */
final class BodySplice {

    /** Replace {@code [start, end)} with {@code bytes}; an insertion when {@code start == end}. */
    record Edit(int start, int end, byte[] bytes) {}

    private final List<Edit> edits = new ArrayList<>(2);

    void replace(long start, long end, byte[] bytes) {
        edits.add(new Edit((int) start, (int) end, bytes));
    }

    void insert(long at, byte[] bytes) {
        edits.add(new Edit((int) at, (int) at, bytes));
    }

    boolean isEmpty() {
        return edits.isEmpty();
    }

    /**
     * The edited body. Takes over the caller's reference to {@code original}: release the result,
     * not the original.
     */
    ByteBuf apply(ByteBuf original, ByteBufAllocator alloc) {
        if (edits.isEmpty()) {
            return original;
        }
        edits.sort(Comparator.comparingInt(Edit::start));
        CompositeByteBuf out = alloc.compositeBuffer(edits.size() * 2 + 1);
        int base = original.readerIndex();
        int cursor = 0;
        for (Edit edit : edits) {
            if (edit.start() > cursor) {
                out.addComponent(true, original.retainedSlice(base + cursor, edit.start() - cursor));
            }
            out.addComponent(true, Unpooled.wrappedBuffer(edit.bytes()));
            cursor = Math.max(cursor, edit.end());
        }
        int length = original.readableBytes();
        if (cursor < length) {
            out.addComponent(true, original.retainedSlice(base + cursor, length - cursor));
        }
        original.release();
        return out;
    }

    /** {@code value} as a JSON string literal in UTF-8, quotes included. */
    static byte[] jsonString(String value) {
        byte[] escaped = JsonStringEncoder.getInstance().quoteAsUTF8(value);
        byte[] out = new byte[escaped.length + 2];
        out[0] = '"';
        System.arraycopy(escaped, 0, out, 1, escaped.length);
        out[out.length - 1] = '"';
        return out;
    }

    static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
