package io.switchboard.usage;

import io.netty.buffer.ByteBuf;
import org.jspecify.annotations.Nullable;

/**
 * Finds the JSON payload of one complete server-sent event and hands it to a {@link UsageJsonScanner}.
 * Lines may end in CR, LF or CRLF; several {@code data:} lines are one payload joined by a newline
 * (the SSE rule); comments, {@code event:}/{@code id:} fields and {@code [DONE]} are skipped. The
 * event's buffer is read, never consumed, retained or changed. Keeps no state between events.
 */
final class SseEventScanner {

    private static final byte[] DATA = {'d', 'a', 't', 'a', ':'};
    private static final byte[] DONE = {'[', 'D', 'O', 'N', 'E', ']'};
    private static final byte[] NEWLINE = {'\n'};

    private SseEventScanner() {}

    /**
     * Scans {@code event} and returns the scanner that read its payload, or null when the event has no
     * JSON payload (a comment, a keep-alive, {@code [DONE]}).
     */
    @Nullable
    static UsageJsonScanner scan(ByteBuf event) {
        int length = event.readableBytes();
        byte[] bytes = ScanScratch.copy(event);
        int firstStart = -1;
        int firstEnd = -1;
        // Only when several data: lines make up the payload (rare): they are joined by a newline, so
        // the payload is no longer one range of the bytes and goes to the scanner in pieces.
        UsageJsonScanner joined = null;
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
                if (json && firstStart < 0) {
                    firstStart = payload;
                    firstEnd = lineEnd;
                } else if (json) {
                    if (joined == null) {
                        joined = new UsageJsonScanner();
                        joined.feed(bytes, firstStart, firstEnd - firstStart);
                    }
                    joined.feed(NEWLINE, 0, 1);
                    joined.feed(bytes, payload, lineEnd - payload);
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
        if (joined != null) {
            joined.end();
            joined.close();
            return joined;
        }
        // Nearly every event: one data: line, read in place by the plain parser.
        return firstStart < 0 ? null : UsageJsonScanner.whole(bytes, firstStart, firstEnd - firstStart);
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
