package io.switchboard.config;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Spring's lazy debug messages stay lazy: rendered only when the level is on, and then still logged. */
class FrameworkLoggingTest {

    private static final String NAME = "io.switchboard.config.FrameworkLoggingTest.framework";

    @Test
    void aDisabledDebugMessageIsNeverRenderedAndAnEnabledOneReachesLogback() {
        Logger logback = (Logger) LoggerFactory.getLogger(NAME);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logback.addAppender(appender);
        Level before = logback.getLevel();
        AtomicInteger rendered = new AtomicInteger();
        Object message = new Object() {
            @Override
            public String toString() {
                rendered.incrementAndGet();
                return "checked authorization";
            }
        };
        try {
            Log log = LogFactory.getLog(NAME);
            logback.setLevel(Level.INFO);
            log.debug(message);
            assertThat(rendered).hasValue(0);
            assertThat(appender.list).isEmpty();

            logback.setLevel(Level.DEBUG);
            log.debug(message);
            assertThat(appender.list)
                    .extracting(ILoggingEvent::getFormattedMessage, ILoggingEvent::getLevel)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("checked authorization", Level.DEBUG));
        } finally {
            logback.setLevel(before);
            logback.detachAppender(appender);
        }
    }
}
