package io.switchboard.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.publisher.Flux;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * {@link ClientSendTimeout} on a real server and real sockets: an endless answer to a client that
 * stops reading, and to one that reads slowly but steadily. The server's socket buffers are small
 * so that a slow reader's progress reaches Netty in time (on loopback the kernel's own buffers can
 * hold megabytes, and it wakes the writer only once a third of them is free).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ClientSendTimeoutTest {

    private static final Duration TIMEOUT = Duration.ofMillis(600);
    private static final byte[] CHUNK = new byte[8 * 1024];

    static {
        Arrays.fill(CHUNK, (byte) 'x');
    }

    private final CompletableFuture<Long> closed = new CompletableFuture<>();
    private DisposableServer server;

    private void start(Duration timeout) {
        HttpServer endless = HttpServer.create()
                .host("127.0.0.1")
                .port(0)
                .childOption(ChannelOption.SO_SNDBUF, 16 * 1024)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(16 * 1024, 32 * 1024))
                .doOnConnection(connection ->
                        connection.channel().closeFuture().addListener(done -> closed.complete(System.nanoTime())))
                .handle((request, response) -> response.sendByteArray(
                        Flux.<byte[]>generate(sink -> sink.next(CHUNK)).limitRate(1)));
        server = new ClientSendTimeout(timeout).installOn(endless).bindNow();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.disposeNow();
        }
    }

    @Test
    void aClientThatStopsReadingIsDisconnectedAfterTheTimeoutAndNotBefore() throws Exception {
        start(TIMEOUT);
        // Taken before the request: the server's watch may start before this thread reads a byte.
        long stoppedAt = System.nanoTime();
        try (Socket client = connect()) {
            // Disconnected at all: the bounded wait fails the test (TimeoutException) otherwise.
            long closedAt = closed.get(10, TimeUnit.SECONDS);
            assertThat(Duration.ofNanos(closedAt - stoppedAt)).isGreaterThanOrEqualTo(TIMEOUT);
        }
    }

    @Test
    void aClientThatReadsSlowlyButSteadilyIsNotDisconnected() throws Exception {
        start(TIMEOUT);
        try (Socket client = connect()) {
            InputStream in = client.getInputStream();
            byte[] buffer = new byte[4096];
            long until = System.nanoTime() + TIMEOUT.multipliedBy(5).toNanos();
            long read = 0;
            while (System.nanoTime() < until) {
                read += in.read(buffer); // far slower than the server writes: it is backlogged throughout
                Thread.sleep(10);
            }
            assertThat(closed).as("closed while the client read %d bytes", read).isNotDone();
        }
    }

    @Test
    void aTimeoutOfZeroNeverDisconnects() throws Exception {
        start(Duration.ZERO);
        try (Socket client = connect()) {
            Thread.sleep(TIMEOUT.multipliedBy(3).toMillis());
            assertThat(closed).isNotDone();
        }
    }

    /** A client with a small receive buffer that sent its request and read the answer's first bytes. */
    private Socket connect() throws Exception {
        Socket client = new Socket();
        client.setReceiveBufferSize(4096);
        client.connect(new InetSocketAddress("127.0.0.1", server.port()));
        OutputStream out = client.getOutputStream();
        out.write("GET / HTTP/1.1\r\nHost: test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        assertThat(client.getInputStream().read()).isNotNegative();
        return client;
    }
}
