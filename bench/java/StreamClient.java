import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * Streaming client of the benchmark. Two modes:
 *
 * <ul>
 *   <li>{@code paced <url> <streams> <concurrency> <events> <delayMs> [auth]}: runs paced streams and
 *       prints one {@code BENCH_JSON} line: time to first event (request written to first {@code data:}
 *       event read; {@code open_to_first} counts from the stream opened instead, the client's own wait
 *       for its connection and write included), per-event delivery delay (arrival minus the upstream's {@code "t"} stamp; both
 *       sides read CLOCK_MONOTONIC), events delivered more than one pacing interval late ("held
 *       back"), and events that arrived bunched with the previous one (gap under a quarter of the
 *       pacing).
 *   <li>{@code ramped <url> <streams> <openSeconds> <events> <delayMs> [auth]}: opens the streams at a
 *       steady rate over {@code openSeconds}, none waiting for another, and prints the same
 *       {@code BENCH_JSON} as {@code paced} plus {@code max_open}, the most streams open at once. With
 *       streams that last longer than the opening (events times delay above it), all of them are open
 *       together for a while: the first events are then measured under that many active streams
 *       without the queue that opening them all in the same instant puts in front of each.
 *   <li>{@code idle <url> <streams> <holdSeconds> [auth]}: opens that many streams that go silent after
 *       one event, prints {@code READY <open> <errors>} once every stream has its first event (or 180 s
 *       passed), holds them {@code holdSeconds}, then closes them and prints {@code BENCH_JSON}.
 * </ul>
 */
public final class StreamClient {

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        String url = args[1];
        if (mode.equals("paced")) {
            paced(url, Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]),
                    Integer.parseInt(args[5]), args.length > 6 ? args[6] : "");
        } else if (mode.equals("ramped")) {
            ramped(url, Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]),
                    Integer.parseInt(args[5]), args.length > 6 ? args[6] : "");
        } else if (mode.equals("idle")) {
            idle(url, Integer.parseInt(args[2]), Integer.parseInt(args[3]), args.length > 4 ? args[4] : "");
        } else {
            throw new IllegalArgumentException("mode: paced | ramped | idle");
        }
        System.exit(0);
    }

    private static HttpClient client(int connections, String auth) {
        ConnectionProvider pool = ConnectionProvider.builder("bench")
                .maxConnections(connections)
                .pendingAcquireMaxCount(-1)
                .pendingAcquireTimeout(Duration.ofSeconds(60))
                .build();
        return HttpClient.create(pool)
                .compress(false)
                .headers(h -> {
                    h.set("Content-Type", "application/json");
                    h.set("Accept", "text/event-stream");
                    if (!auth.isEmpty()) {
                        h.set("Authorization", "Bearer " + auth);
                    }
                });
    }

    private static String body(int events, int delayMs, boolean idle) {
        return "{\"model\":\"openai/gpt-5-nano\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":"
                + "\"Count to sixty-four.\"}],\"bench_events\":" + events + ",\"bench_delay_ms\":" + delayMs
                + (idle ? ",\"bench_idle\":true" : "") + "}";
    }

    /** What one stream saw. */
    private static final class Stream {
        final long startNanos = System.nanoTime();
        /** When the client had written the request out: time to first event counts from here. */
        volatile long writtenNanos = -1;
        final StringBuilder pending = new StringBuilder();
        long firstEventNanos = -1;
        long lastArrival = -1;
        int events;
        int status;
        final List<Long> delays = new ArrayList<>();
        final List<Long> gaps = new ArrayList<>();

        /** Splits SSE events out of the bytes received so far; each complete event is stamped now. */
        void onChunk(String text, long now) {
            pending.append(text);
            int end;
            while ((end = boundary(pending)) >= 0) {
                String event = pending.substring(0, end);
                pending.delete(0, end + 2);
                if (!event.startsWith("data: {")) {
                    continue; // comments (heartbeats) and [DONE]
                }
                int t = event.indexOf("\"t\":");
                if (t < 0) {
                    continue; // the closing usage event carries no stamp
                }
                long sent = Long.parseLong(event.substring(t + 4, event.indexOf('}', t)).trim());
                if (firstEventNanos < 0) {
                    firstEventNanos = now;
                } else {
                    gaps.add(now - lastArrival);
                }
                lastArrival = now;
                delays.add(now - sent);
                events++;
            }
        }

        private static int boundary(StringBuilder sb) {
            return sb.indexOf("\n\n");
        }
    }

    private static Mono<Stream> open(HttpClient client, String url, String body, CountDownLatch firstEvent) {
        return Mono.defer(() -> {
            Stream s = new Stream();
            // From the request written, not from the stream opened: with thousands opened at once
            // the client's own queue of connects and writes (on the core it shares with the fake
            // upstream) came first and moved by hundreds of milliseconds between runs, direct too.
            return client.doAfterRequest((request, connection) -> s.writtenNanos = System.nanoTime())
                    .post()
                    .uri(url)
                    .send(Mono.fromSupplier(() -> Unpooled.copiedBuffer(body, StandardCharsets.UTF_8)))
                    .response((res, content) -> {
                        s.status = res.status().code();
                        return content.map(buf -> {
                            long now = System.nanoTime();
                            boolean hadFirst = s.firstEventNanos >= 0;
                            s.onChunk(buf.toString(StandardCharsets.UTF_8), now);
                            if (!hadFirst && s.firstEventNanos >= 0 && firstEvent != null) {
                                firstEvent.countDown();
                            }
                            return s;
                        });
                    })
                    .then(Mono.just(s));
        });
    }

    private static void paced(String url, int streams, int concurrency, int events, int delayMs, String auth) {
        HttpClient client = client(concurrency, auth);
        String body = body(events, delayMs, false);
        ConcurrentLinkedQueue<Stream> done = new ConcurrentLinkedQueue<>();
        AtomicInteger errors = new AtomicInteger();
        // Warm up (class loading, JIT, pooled connections) on short streams that are not counted.
        String warmBody = body(4, 1, false);
        int warmConcurrency = Math.min(concurrency, 32);
        Flux.range(0, warmConcurrency * 4)
                .flatMap(i -> open(client, url, warmBody, null).onErrorResume(e -> Mono.empty()), warmConcurrency)
                .blockLast(Duration.ofMinutes(2));
        long t0 = System.nanoTime();
        Flux.range(0, streams)
                .flatMap(
                        i -> counted(open(client, url, body, null), done, errors), concurrency)
                .blockLast(Duration.ofMinutes(10));
        report(streams, events, delayMs, done, errors.get(), System.nanoTime() - t0, "");
    }

    /** A finished stream goes to {@code done}; a failed one is counted and dropped. */
    private static Mono<Stream> counted(Mono<Stream> stream, ConcurrentLinkedQueue<Stream> done, AtomicInteger errors) {
        return stream.doOnNext(done::add).onErrorResume(e -> {
            errors.incrementAndGet();
            return Mono.empty();
        });
    }

    private static void ramped(String url, int streams, int openSeconds, int events, int delayMs, String auth) {
        HttpClient client = client(streams, auth);
        String body = body(events, delayMs, false);
        ConcurrentLinkedQueue<Stream> done = new ConcurrentLinkedQueue<>();
        AtomicInteger errors = new AtomicInteger();
        AtomicInteger open = new AtomicInteger();
        AtomicInteger maxOpen = new AtomicInteger();
        long period = Math.max(1, TimeUnit.SECONDS.toNanos(openSeconds) / streams);
        long t0 = System.nanoTime();
        Flux.interval(Duration.ofNanos(period))
                .take(streams)
                .flatMap(
                        i -> counted(
                                open(client, url, body, null)
                                        .doOnSubscribe(sub -> maxOpen.accumulateAndGet(open.incrementAndGet(), Math::max))
                                        .doFinally(signal -> open.decrementAndGet()),
                                done,
                                errors),
                        streams)
                .blockLast(Duration.ofMinutes(10));
        report(streams, events, delayMs, done, errors.get(), System.nanoTime() - t0,
                ",\"max_open\":" + maxOpen.get() + ",\"open_s\":" + openSeconds);
    }

    private static void report(int streams, int events, int delayMs, ConcurrentLinkedQueue<Stream> done, int errors,
            long wall, String extra) {
        long pacing = TimeUnit.MILLISECONDS.toNanos(delayMs);
        List<Long> ttfe = new ArrayList<>();
        List<Long> openToFirst = new ArrayList<>();
        List<Long> delays = new ArrayList<>();
        long heldBack = 0;
        long bunched = 0;
        int incomplete = 0;
        int badStatus = 0;
        for (Stream s : done) {
            if (s.status != 200) {
                badStatus++;
                continue;
            }
            if (s.events != events) {
                incomplete++;
            }
            if (s.firstEventNanos >= 0 && s.writtenNanos >= 0) {
                ttfe.add(s.firstEventNanos - s.writtenNanos);
                openToFirst.add(s.firstEventNanos - s.startNanos);
            }
            delays.addAll(s.delays);
            heldBack += s.delays.stream().filter(d -> d > pacing).count();
            bunched += s.gaps.stream().filter(g -> g < pacing / 4).count();
        }
        System.out.printf(Locale.ROOT,
                "BENCH_JSON {\"streams\":%d,\"ok\":%d,\"errors\":%d,\"bad_status\":%d,\"incomplete\":%d,"
                        + "\"events\":%d,\"wall_s\":%.2f,\"ttfe_p50_ms\":%.3f,\"ttfe_p99_ms\":%.3f,\"ttfe_max_ms\":%.3f,"
                        + "\"delay_p50_ms\":%.3f,\"delay_p99_ms\":%.3f,\"delay_max_ms\":%.3f,"
                        + "\"held_back\":%d,\"bunched\":%d,\"open_to_first_p50_ms\":%.3f,\"open_to_first_p99_ms\":%.3f%s}%n",
                streams, done.size() - badStatus - incomplete, errors, badStatus, incomplete, delays.size(),
                wall / 1e9, pct(ttfe, 50), pct(ttfe, 99), pct(ttfe, 100), pct(delays, 50), pct(delays, 99),
                pct(delays, 100), heldBack, bunched, pct(openToFirst, 50), pct(openToFirst, 99), extra);
    }

    private static void idle(String url, int streams, int holdSeconds, String auth) throws InterruptedException {
        HttpClient client = client(streams + 16, auth);
        String body = body(1, 0, true);
        CountDownLatch first = new CountDownLatch(streams);
        AtomicInteger errors = new AtomicInteger();
        AtomicInteger ended = new AtomicInteger();
        AtomicLong lastError = new AtomicLong();
        List<Disposable> open = new ArrayList<>(streams);
        long t0 = System.nanoTime();
        for (int i = 0; i < streams; i++) {
            open.add(open(client, url, body, first).subscribe(
                    s -> {
                        ended.incrementAndGet(); // an idle stream must not end while held
                    },
                    e -> {
                        errors.incrementAndGet();
                        if (lastError.getAndSet(1) == 0) {
                            System.err.println("first idle-stream error: " + e);
                        }
                        first.countDown();
                    }));
        }
        // Opening thousands of streams through a proxy on a busy machine can take a minute or more.
        boolean all = first.await(180, TimeUnit.SECONDS);
        long openSeconds = System.nanoTime() - t0;
        int ready = (int) (streams - first.getCount()) - errors.get();
        System.out.printf(Locale.ROOT, "READY %d %d %.2f%n", ready, errors.get(), openSeconds / 1e9);
        System.out.flush();
        Thread.sleep(TimeUnit.SECONDS.toMillis(holdSeconds));
        int endedWhileHeld = ended.get();
        open.forEach(Disposable::dispose);
        System.out.printf(Locale.ROOT,
                "BENCH_JSON {\"streams\":%d,\"ready\":%d,\"errors\":%d,\"ended_early\":%d,\"all_ready\":%b,"
                        + "\"open_s\":%.2f}%n",
                streams, ready, errors.get(), endedWhileHeld, all, openSeconds / 1e9);
    }

    private static double pct(List<Long> nanos, double p) {
        if (nanos.isEmpty()) {
            return Double.NaN;
        }
        long[] a = nanos.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(a);
        int rank = (int) Math.ceil(p / 100.0 * a.length);
        return a[Math.max(0, Math.min(a.length - 1, rank - 1))] / 1e6;
    }
}
