package io.switchboard.proxy;

/**
 * How many buffers Reactor Netty's sender asks of a response body before it has written them
 * ({@value #PROPERTY}, 128 unless set). The sender keeps a queue of that many slots for every open
 * response, empty or not: 952 bytes of heap per open stream, for a stream whose events arrive one at a
 * time anyway. With one slot it keeps a single-element holder instead (16 bytes), asks for the next
 * buffer once the last is written, and a client that reads slowly holds back one event in the
 * gateway, not 128. Reactor Netty reads the property once, when its sender class loads, so it is set
 * before the server starts; an operator's own {@code -D} value wins.
 */
public final class SenderPrefetch {

    static final String PROPERTY = "reactor.netty.send.maxPrefetchSize";
    static final String DEFAULT = "1";

    private SenderPrefetch() {}

    /** Sets the gateway's default unless the JVM was started with its own value. */
    public static void applyDefault() {
        if (System.getProperty(PROPERTY) == null) {
            System.setProperty(PROPERTY, DEFAULT);
        }
    }
}
