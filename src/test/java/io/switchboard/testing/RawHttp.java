package io.switchboard.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * Sends hand-written HTTP/1.1 bytes over a real socket, for what regular clients refuse to send:
 * hop-by-hop headers, duplicate headers, smuggling attempts, invalid bytes.
 */
public final class RawHttp {

    private RawHttp() {}

    /** Writes {@code request} and reads until the server closes the connection or 10 s pass. */
    public static String exchange(int port, byte[] request) {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            try {
                out.write(request);
                out.flush();
            } catch (java.net.SocketException e) {
                // The server answered and closed before reading everything (a 413 or 431 is meant
                // to): its answer may still be waiting to be read.
            }
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream response = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            try {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    response.write(buffer, 0, n);
                }
            } catch (SocketTimeoutException | java.net.SocketException e) {
                // the server kept the connection open or reset it: return what arrived
            }
            return response.toString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String exchange(int port, String request) {
        return exchange(port, request.getBytes(StandardCharsets.UTF_8));
    }

    /** A POST with a JSON body and {@code Connection: close} plus the extra header lines given. */
    public static String post(int port, String path, String body, String... headerLines) {
        return exchange(port, postBytes(port, path, body, headerLines));
    }

    /**
     * Sends a POST and leaves the connection open, for a client that reads at its own pace or
     * leaves. {@code receiveBuffer} (bytes, 0 for the system's) is set before connecting, so the
     * kernel cannot grow it and a client that stops reading is felt at once.
     */
    public static Socket open(int port, int receiveBuffer, String path, String body, String... headerLines) {
        Socket socket = new Socket();
        try {
            if (receiveBuffer > 0) {
                socket.setReceiveBufferSize(receiveBuffer);
            }
            socket.setSoTimeout(20_000);
            socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 5_000);
            socket.getOutputStream().write(postBytes(port, path, body, headerLines));
            socket.getOutputStream().flush();
            return socket;
        } catch (IOException e) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // already failing
            }
            throw new UncheckedIOException(e);
        }
    }

    /** Reads an answer's status line and headers, up to and including the blank line. */
    public static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new java.io.EOFException("connection closed inside the answer's head: " + head);
            }
            head.write(b);
            matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    private static byte[] postBytes(int port, String path, String body, String... headerLines) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        StringBuilder request = new StringBuilder()
                .append("POST ")
                .append(path)
                .append(" HTTP/1.1\r\n")
                .append("Host: 127.0.0.1:")
                .append(port)
                .append("\r\n")
                .append("Content-Type: application/json\r\n")
                .append("Content-Length: ")
                .append(bytes.length)
                .append("\r\n");
        for (String line : headerLines) {
            request.append(line).append("\r\n");
        }
        request.append("\r\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(request.toString().getBytes(StandardCharsets.UTF_8));
        out.writeBytes(bytes);
        return out.toByteArray();
    }

    public static int status(String response) {
        return Integer.parseInt(response.substring(9, 12));
    }
}
