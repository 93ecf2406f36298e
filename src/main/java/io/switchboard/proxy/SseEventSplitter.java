package io.switchboard.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.ByteProcessor;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Splits a server-sent-event byte stream into whole events as chunks arrive. An event ends at a
 * blank line; lines may end in CR, LF or CRLF (the SSE grammar allows all three). Nothing is held
 * back past the end of the current event, and an event larger than {@code maxEventSize} is let
 * through in pieces rather than gathered, so one huge event cannot grow memory.
 *
 * <p>One splitter per stream. It is fed from the upstream's event loop but discarded from whichever
 * thread ends the exchange (a client that leaves cancels from the server's loop), so its methods
 * synchronize; the lock is uncontended but for that one moment.
 */
final class SseEventSplitter {

    /** A piece to relay: a whole event, or part of an oversized one that observers must not see. */
    record Piece(ByteBuf bytes, boolean wholeEvent) {}

    private final int maxEventSize;
    private @Nullable CompositeByteBuf pending;
    private boolean lastWasCr;
    private boolean lineEmpty = true;
    /** Whether the current event has a byte other than a line ending (the LF of a split CRLF is not one). */
    private boolean eventHasContent;

    private boolean oversized;
    private volatile boolean atBoundary = true;
    private boolean closed;
    private boolean sawBytes;

    SseEventSplitter(int maxEventSize) {
        this.maxEventSize = maxEventSize;
    }

    /**
     * The pieces completed by {@code chunk}, in order. Takes over the caller's reference to
     * {@code chunk}; each returned piece must be released by whoever consumes it.
     */
    synchronized List<Piece> split(ByteBuf chunk) {
        if (closed) {
            // The exchange ended (client gone) while this chunk was on its way: drop it.
            chunk.release();
            return List.of();
        }
        sawBytes |= chunk.isReadable();
        List<Piece> out = new ArrayList<>(2);
        int start = chunk.readerIndex();
        int end = chunk.writerIndex();
        int eventStart = start;
        for (int i = start; i < end; i++) {
            byte b = chunk.getByte(i);
            if (b == '\n' && lastWasCr) {
                // The LF of a CRLF; if its CR closed an event in an earlier chunk, this LF leads
                // the next piece: the bytes stay exactly as the upstream sent them.
                lastWasCr = false;
                continue;
            }
            if (b != '\n' && b != '\r') {
                lastWasCr = false;
                lineEmpty = false;
                eventHasContent = true;
                // Skip to the line's end in one call: byte-by-byte reads of a long line (a 10 MB
                // event) cost a bounds check each, and under leak detection a record each.
                int lineEnd = chunk.forEachByte(i + 1, end - i - 1, ByteProcessor.FIND_CRLF);
                i = (lineEnd < 0 ? end : lineEnd) - 1;
                continue;
            }
            lastWasCr = b == '\r';
            if (!lineEmpty) {
                lineEmpty = true;
                continue;
            }
            // A line terminator on an empty line: the event ends here (with the LF of a CRLF).
            int eventEnd = i + 1;
            if (b == '\r' && eventEnd < end && chunk.getByte(eventEnd) == '\n') {
                eventEnd++;
                lastWasCr = false;
                i++;
            }
            out.add(take(chunk, eventStart, eventEnd, true));
            eventStart = eventEnd;
        }
        if (eventStart < end) {
            hold(chunk.retainedSlice(eventStart, end - eventStart));
            if (oversized || pending.readableBytes() > maxEventSize) {
                oversized = true;
                out.add(new Piece(drainPending(), false));
            }
        }
        chunk.release();
        // Held bytes that are only line endings (the LF of a CRLF whose CR ended the last event)
        // still leave the stream between events: that LF reaches the client after a comment as an
        // empty line, a no-op. (An oversized event's held part went out, and it had content.)
        atBoundary = !eventHasContent && !oversized;
        return out;
    }

    private Piece take(ByteBuf chunk, int from, int to, boolean complete) {
        ByteBuf tail = chunk.retainedSlice(from, to - from);
        boolean whole = complete && !oversized;
        oversized = false;
        eventHasContent = false;
        if (pending == null) {
            return new Piece(tail, whole);
        }
        CompositeByteBuf event = pending;
        pending = null;
        event.addComponent(true, tail);
        return new Piece(event, whole);
    }

    private void hold(ByteBuf part) {
        if (pending == null) {
            pending = Unpooled.compositeBuffer(16);
        }
        pending.addComponent(true, part);
    }

    private ByteBuf drainPending() {
        ByteBuf out = pending;
        pending = null;
        return out;
    }

    /** True when the bytes relayed so far end on an event boundary: a comment may go in here. */
    boolean atBoundary() {
        return atBoundary;
    }

    /**
     * True when part of an oversized event went out without its end: whatever follows it must
     * first end that event, or the client reads it as more of that event.
     */
    /** Whether the upstream sent any byte, relayed or not (an event the gateway keeps from the client counts). */
    synchronized boolean sawBytes() {
        return sawBytes;
    }

    synchronized boolean midEvent() {
        return oversized;
    }

    /** Whatever is held of an unfinished event, to relay as-is at the end of the stream. */
    @Nullable
    ByteBuf remainder() {
        return pending == null ? null : drainPending();
    }

    /** Releases what is held and drops whatever arrives later; safe from any thread. */
    synchronized void discard() {
        closed = true;
        if (pending != null) {
            pending.release();
            pending = null;
        }
    }
}
