package io.switchboard.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A loopback port where a TCP connect never completes, for "the upstream is still connecting"
 * without leaving 127.0.0.1: a listening socket with a backlog of 1 whose accept queue is filled
 * and never {@code accept()}ed. Linux then drops further SYNs, so a connect to it hangs until the
 * caller's connect timeout.
 */
public final class UnansweredConnectPort implements AutoCloseable {

    private static final String SYN_SENT = "02";

    private final ServerSocket listener;
    private final List<Socket> queued = new ArrayList<>();

    private UnansweredConnectPort(ServerSocket listener) {
        this.listener = listener;
    }

    public static UnansweredConnectPort open() {
        try {
            UnansweredConnectPort port =
                    new UnansweredConnectPort(new ServerSocket(0, 1, InetAddress.getLoopbackAddress()));
            port.fillAcceptQueue();
            return port;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Connects until one connect hangs: from then on the kernel drops every SYN to this port. */
    private void fillAcceptQueue() throws IOException {
        InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort());
        for (int i = 0; i < 16; i++) {
            Socket socket = new Socket();
            try {
                socket.connect(address, 300);
                queued.add(socket);
            } catch (SocketTimeoutException full) {
                socket.close();
                return;
            }
        }
        close();
        throw new IllegalStateException("connects to a full accept queue kept succeeding: not Linux?");
    }

    public int port() {
        return listener.getLocalPort();
    }

    /**
     * The local ports of the sockets on this machine still connecting to this port (TCP state
     * {@code SYN_SENT} in {@code /proc/net/tcp} and {@code tcp6}): how a test sees a gateway's
     * pending connect, and sees it abandoned.
     */
    public Set<Integer> connectsInProgress() {
        String remote = String.format(Locale.ROOT, ":%04X", port());
        Set<Integer> local = new HashSet<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            List<String> lines;
            try {
                lines = Files.readAllLines(Path.of(table));
            } catch (IOException e) {
                continue;
            }
            for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                String[] fields = line.trim().split("\\s+");
                if (fields.length > 3 && fields[2].endsWith(remote) && fields[3].equals(SYN_SENT)) {
                    local.add(Integer.parseInt(fields[1].substring(fields[1].lastIndexOf(':') + 1), 16));
                }
            }
        }
        return local;
    }

    @Override
    public void close() {
        for (Socket socket : queued) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
