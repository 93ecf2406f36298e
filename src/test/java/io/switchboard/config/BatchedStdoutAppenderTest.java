package io.switchboard.config;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The console appender writes a batch of lines to standard output in one write, and never closes it. */
class BatchedStdoutAppenderTest {

    private final PrintStream original = System.out;
    private final ByteArrayOutputStream written = new ByteArrayOutputStream();
    private final List<Integer> writes = new ArrayList<>();
    private boolean closed;

    @BeforeEach
    void captureStdout() {
        OutputStream counting = new OutputStream() {
            @Override
            public void write(int b) {
                writes.add(1);
                written.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                writes.add(len);
                written.write(b, off, len);
            }

            @Override
            public void close() {
                closed = true;
            }
        };
        // As the JVM's own standard output: a stream that flushes on every write.
        System.setOut(new PrintStream(counting, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restoreStdout() {
        System.setOut(original);
    }

    @Test
    void linesWaitForTheBatchsFlushAndLeaveInOneWrite() throws Exception {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new LogbackMDCAdapter());
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%level %msg%n");
        encoder.start();
        BatchedStdoutAppender appender = new BatchedStdoutAppender();
        appender.setContext(context);
        appender.setEncoder(encoder);
        appender.start();
        Logger logger = context.getLogger("access");
        logger.setLevel(Level.INFO);
        logger.addAppender(appender);

        logger.info("first");
        logger.info("second");
        logger.info("third");
        assertThat(written.size()).as("nothing written before the batch ends").isZero();

        appender.getOutputStream().flush(); // what the asynchronous appender does at the end of a batch
        assertThat(written.toString(StandardCharsets.UTF_8)).isEqualTo("INFO first\nINFO second\nINFO third\n");
        assertThat(writes).hasSize(1);

        logger.info("last");
        appender.stop();
        assertThat(written.toString(StandardCharsets.UTF_8)).endsWith("INFO third\nINFO last\n");
        assertThat(closed)
                .as("standard output stays open after the appender stops")
                .isFalse();
    }
}
