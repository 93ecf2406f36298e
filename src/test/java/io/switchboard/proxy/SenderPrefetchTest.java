package io.switchboard.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SenderPrefetchTest {

    private String before;

    @BeforeEach
    void remember() {
        before = System.getProperty(SenderPrefetch.PROPERTY);
    }

    @AfterEach
    void restore() {
        if (before == null) {
            System.clearProperty(SenderPrefetch.PROPERTY);
        } else {
            System.setProperty(SenderPrefetch.PROPERTY, before);
        }
    }

    @Test
    void oneSlotWhenTheJvmSaysNothing() {
        System.clearProperty(SenderPrefetch.PROPERTY);

        SenderPrefetch.applyDefault();

        assertThat(System.getProperty(SenderPrefetch.PROPERTY)).isEqualTo("1");
    }

    @Test
    void anOperatorsOwnValueWins() {
        System.setProperty(SenderPrefetch.PROPERTY, "64");

        SenderPrefetch.applyDefault();

        assertThat(System.getProperty(SenderPrefetch.PROPERTY)).isEqualTo("64");
    }
}
