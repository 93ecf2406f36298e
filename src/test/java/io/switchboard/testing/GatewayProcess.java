package io.switchboard.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The gateway as a separate process ({@code java -jar target/switchboard-*.jar}, built by
 * {@code package} before the integration tests run), for tests that must kill it the hard way. Its
 * output goes to {@code log}; it is ready when {@code /actuator/health} answers 200.
 */
public final class GatewayProcess implements AutoCloseable {

    private static final Duration START_LIMIT = Duration.ofSeconds(90);

    private final Process process;
    private final int port;
    private final Path log;

    private GatewayProcess(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** Starts the packaged gateway with these settings (as command-line arguments) and waits until it is ready. */
    public static GatewayProcess start(Map<String, String> settings, Path log) throws IOException {
        int port = freePort();
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                // Two shared cores: a small heap, one GC thread, a quick start.
                "-Xmx384m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                // As in the tests' own JVM: a leaked buffer shows as "LEAK:" in the log, checked at the end.
                "-Dio.netty.leakDetection.level=paranoid",
                "-jar",
                packagedJar().toString(),
                "--server.port=" + port));
        settings.forEach((name, value) -> command.add("--" + name + "=" + value));
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        GatewayProcess started = new GatewayProcess(process, port, log);
        try {
            started.awaitReady();
        } catch (RuntimeException | Error e) {
            process.destroyForcibly();
            throw e;
        }
        return started;
    }

    private static Path packagedJar() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("target"))) {
            return files.filter(p -> p.getFileName().toString().matches("switchboard-[^/]*\\.jar"))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no target/switchboard-*.jar: run ./mvnw package first"));
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private void awaitReady() {
        TestGateway client = gateway();
        long deadline = System.nanoTime() + START_LIMIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("the gateway exited with " + process.exitValue() + ":\n" + logTail());
            }
            try {
                HttpResponse<String> health = client.http()
                        .send(
                                HttpRequest.newBuilder(client.uri("/actuator/health"))
                                        .timeout(Duration.ofSeconds(2))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString());
                if (health.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
            try {
                process.waitFor(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("the gateway was not ready within " + START_LIMIT + ":\n" + logTail());
    }

    public TestGateway gateway() {
        return new TestGateway(port);
    }

    /** SIGKILL on Linux: no shutdown hook, no graceful shutdown, nothing flushed. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new AssertionError("the gateway did not die within 10 s");
        }
        assertNoLeakReported();
    }

    /** Fails when the process's paranoid leak detector reported a buffer never released. */
    private void assertNoLeakReported() {
        try {
            String output = Files.readString(log);
            if (output.contains("LEAK:")) {
                throw new AssertionError("the gateway process reported a Netty buffer leak:\n"
                        + output.substring(output.indexOf("LEAK:")));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The last lines of the process's output, for failure messages. */
    public String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A graceful stop (SIGTERM), waited for. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        assertNoLeakReported();
    }
}
