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
        UsageJsonScanner scanner = null;
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
                if (!isDone(bytes, payload, lineEnd)) {
                    if (scanner == null) {
                        scanner = new UsageJsonScanner();
                    } else {
                        scanner.feed(NEWLINE, 0, 1);
                    }
                    scanner.feed(bytes, payload, lineEnd - payload);
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
        if (scanner != null) {
            scanner.end();
            scanner.close();
        }
        return scanner;
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
