package io.switchboard.config;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import java.io.BufferedOutputStream;
import java.io.OutputStream;

/**
 * The console appender behind the asynchronous one in {@code logback-spring.xml}: standard output
 * through a buffer that the asynchronous appender flushes once per batch of lines, not once per
 * line. logback's {@code ConsoleAppender} writes each line to {@code System.out}, which flushes on
 * every write: a {@code write} system call per access line, half of the log writer's CPU on the
 * gateway's core (docs/benchmarks.md). logstash-logback-encoder flushes an {@link OutputStreamAppender}
 * delegate whose {@code immediateFlush} is off at the end of each batch (every 10 ms at most under
 * its sleeping wait strategy), so a line still leaves within one batch.
 *
 * <p>Written here rather than taken from a library: logback has no appender that buffers standard
 * output, and a {@code FileAppender} on {@code /dev/stdout} fails where standard output is a socket
 * (systemd's journal). The batch goes to whatever {@code System.out} is when it is flushed (a test's
 * output capture too), and stopping flushes it without closing standard output.
 */
public final class BatchedStdoutAppender extends OutputStreamAppender<ILoggingEvent> {

    private static final int BUFFER_BYTES = 64 * 1024;

    @Override
    public void start() {
        setImmediateFlush(false);
        setOutputStream(new BufferedOutputStream(new CurrentStdout(), BUFFER_BYTES));
        super.start();
    }

    /** {@code System.out} as it is at each write: flushed, never closed (the JVM still writes to it after). */
    private static final class CurrentStdout extends OutputStream {

        @Override
        public void write(int b) {
            System.out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            System.out.write(b, off, len);
        }

        @Override
        public void flush() {
            System.out.flush();
        }

        @Override
        public void close() {
            System.out.flush();
        }
    }
}
