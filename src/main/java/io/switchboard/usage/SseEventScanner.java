package io.switchboard.usage;

import io.netty.buffer.ByteBuf;
import org.jspecify.annotations.Nullable;

/**
 * Finds the JSON payload of one complete server-sent event and has a {@link UsageJsonScanner} read it
 * whole.
 * Lines may end in CR, LF or CRLF; several {@code data:} lines are one payload joined by a newline
 * (the SSE rule); comments, {@code event:}/{@code id:} fields and {@code [DONE]} are skipped. The
 * event's buffer is read (through a copy), never consumed, retained or changed. Keeps no state between events.
 */
final class SseEventScanner {

    private static final byte[] DATA = {'d', 'a', 't', 'a', ':'};
    private static final byte[] DONE = {'[', 'D', 'O', 'N', 'E', ']'};

    private SseEventScanner() {}

    /**
     * Scans {@code event} and returns the scanner that read its payload, or null when the event has no
     * JSON payload (a comment, a keep-alive, {@code [DONE]}).
     */
    @Nullable
    static UsageJsonScanner scan(ByteBuf event) {
        int length = event.readableBytes();
        byte[] bytes = ScanScratch.copy(event);
        // The payload is gathered in place, in the copy: a later data: line's text moves down to just
        // after the payload so far, behind a newline. It always fits, as each line gave up at least
        // its "data:" and its line end. Nearly every event has one data: line, which stays where it is.
        int start = -1;
        int end = -1;
        int lineStart = 0;
        while (lineStart < length) {
            int lineEnd = lineStart;
            while (lineEnd < length && bytes[lineEnd] != '\n' && bytes[lineEnd] != '\r') {
                lineEnd++;
            }
            if (startsWith(bytes, lineStart, lineEnd, DATA)) {
                int payload = lineStart + DATA.length;
                if (payload < lineEnd && bytes[payload] == ' ') {
                    payload++;
                }
                boolean json = !isDone(bytes, payload, lineEnd);
                if (json && start < 0) {
                    start = payload;
                    end = lineEnd;
                } else if (json) {
                    bytes[end++] = '\n';
                    System.arraycopy(bytes, payload, bytes, end, lineEnd - payload);
                    end += lineEnd - payload;
                }
            }
            lineStart = lineEnd;
            if (lineStart < length && bytes[lineStart] == '\r') {
                lineStart++;
            }
            if (lineStart < length && bytes[lineStart] == '\n') {
                lineStart++;
            }
        }
        return start < 0 ? null : UsageJsonScanner.whole(bytes, start, end - start);
    }

    private static boolean startsWith(byte[] bytes, int from, int to, byte[] prefix) {
        if (to - from < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (bytes[from + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static boolean isDone(byte[] bytes, int from, int to) {
        while (to > from && bytes[to - 1] == ' ') {
            to--;
        }
        return to - from == DONE.length && startsWith(bytes, from, to, DONE);
    }
}
