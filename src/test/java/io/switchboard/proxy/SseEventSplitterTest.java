package io.switchboard.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SseEventSplitterTest {

    private final List<String> events = new ArrayList<>();
    private final List<String> partial = new ArrayList<>();

    private void feed(SseEventSplitter splitter, String text) {
        for (SseEventSplitter.Piece piece : splitter.split(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8))) {
            (piece.wholeEvent() ? events : partial).add(piece.bytes().toString(StandardCharsets.UTF_8));
            piece.bytes().release();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"\n", "\r", "\r\n"})
    void splitsOnBlankLinesWhateverTheLineEnding(String eol) {
        SseEventSplitter splitter = new SseEventSplitter(1024);
        String one = "data: one" + eol + eol;
        String two = ": comment" + eol + eol;
        String three = "event: x" + eol + "data: three" + eol + eol;
        feed(splitter, one + two + three);
        assertThat(events).containsExactly(one, two, three);
        assertThat(splitter.atBoundary()).isTrue();
        splitter.discard();
    }

    @Test
    void eventSpanningChunksIsHeldOnlyUntilItEnds() {
        SseEventSplitter splitter = new SseEventSplitter(1024);
        feed(splitter, "data: {\"a\":");
        assertThat(events).isEmpty();
        assertThat(splitter.atBoundary()).isFalse();
        feed(splitter, "1}\n");
        assertThat(events).isEmpty();
        feed(splitter, "\ndata: b\n\ndata: c");
        assertThat(events).containsExactly("data: {\"a\":1}\n\n", "data: b\n\n");
        ByteBuf rest = splitter.remainder();
        assertThat(rest.toString(StandardCharsets.UTF_8)).isEqualTo("data: c");
        rest.release();
    }

    @Test
    void crlfSplitAcrossChunksKeepsEveryByte() {
        SseEventSplitter splitter = new SseEventSplitter(1024);
        feed(splitter, "data: a\r\n\r");
        feed(splitter, "\ndata: b\r\n\r\n");
        assertThat(String.join("", events)).isEqualTo("data: a\r\n\r\ndata: b\r\n\r\n");
        assertThat(events).hasSize(2);
        splitter.discard();
    }

    @Test
    void theLfOfASplitCrlfAloneIsStillBetweenEvents() {
        // A chunk that ends between an event's last CR and its LF: the LF is only the rest of a
        // line ending, so a heartbeat comment may still go in (an upstream that then thinks for a
        // minute must not leave the client without one).
        SseEventSplitter splitter = new SseEventSplitter(1024);
        feed(splitter, "data: a\r\n\r");
        feed(splitter, "\n");
        assertThat(splitter.atBoundary()).isTrue();
        feed(splitter, "data: b");
        assertThat(splitter.atBoundary()).isFalse();
        feed(splitter, "\r\n\r\n");
        assertThat(String.join("", events)).isEqualTo("data: a\r\n\r\ndata: b\r\n\r\n");
        assertThat(splitter.atBoundary()).isTrue();
        splitter.discard();
    }

    @Test
    void oversizedEventIsLetThroughInPiecesNotGathered() {
        SseEventSplitter splitter = new SseEventSplitter(16);
        assertThat(splitter.midEvent()).isFalse();
        feed(splitter, "data: " + "x".repeat(40));
        assertThat(partial).hasSize(1);
        assertThat(splitter.midEvent())
                .as("part of an event relayed without its end")
                .isTrue();
        feed(splitter, "y".repeat(10));
        feed(splitter, "\n\ndata: small\n\n");
        assertThat(splitter.midEvent()).isFalse();
        assertThat(String.join("", partial) + String.join("", events))
                .isEqualTo("data: " + "x".repeat(40) + "y".repeat(10) + "\n\ndata: small\n\n");
        assertThat(events).containsExactly("data: small\n\n");
        splitter.discard();
    }
}
