package io.switchboard.usage;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * What the usage filter spends reading one server-sent event (SseEventScanner.scan): nanoseconds and bytes
 * allocated per event, for a content chunk and for the closing usage event as OpenRouter sends them, on
 * one thread. Run by bench/scan_cost.sh, which can also run it against an earlier commit's scanner.
 */
public final class EventScanCost {
    public static void main(String[] args) {
        String chunk = "data: {\"id\":\"gen-1764900000-AbCdEfGhIjKlMnOpQrSt\",\"provider\":\"OpenAI\",\"model\":\"openai/gpt-5-nano\","
                + "\"object\":\"chat.completion.chunk\",\"created\":1764900000,\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
                + "\"content\":\" sixty-four\",\"reasoning\":null},\"finish_reason\":null,\"native_finish_reason\":null,\"logprobs\":null}]}\n\n";
        String usage = "data: {\"id\":\"gen-1764900000-AbCdEfGhIjKlMnOpQrSt\",\"provider\":\"OpenAI\",\"model\":\"openai/gpt-5-nano\","
                + "\"object\":\"chat.completion.chunk\",\"created\":1764900000,\"choices\":[],\"usage\":{\"prompt_tokens\":12,"
                + "\"completion_tokens\":64,\"total_tokens\":76,\"cost\":0.0000312,\"prompt_tokens_details\":{\"cached_tokens\":0},"
                + "\"completion_tokens_details\":{\"reasoning_tokens\":0}}}\n\n";
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (String[] c : new String[][] {{"content chunk", chunk}, {"usage event", usage}}) {
            ByteBuf buf = Unpooled.wrappedBuffer(c[1].getBytes(StandardCharsets.UTF_8));
            int rounds = 12;
            int n = 500_000;
            double[] nanos = new double[rounds];
            long allocated = 0;
            for (int round = 0; round < rounds; round++) {
                long a0 = threads.getCurrentThreadAllocatedBytes();
                long t0 = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    UsageJsonScanner s = SseEventScanner.scan(buf);
                    sink += (s.content ? 1 : 0) + s.completionTokens;
                }
                nanos[round] = (double) (System.nanoTime() - t0) / n;
                allocated = threads.getCurrentThreadAllocatedBytes() - a0;
            }
            // The first rounds warm the JIT; of the rest, the median and the fastest.
            double[] warm = Arrays.copyOfRange(nanos, 4, rounds);
            Arrays.sort(warm);
            System.out.printf(Locale.ROOT, "%s: %.0f ns per event (median of %d rounds of %d; fastest %.0f), %d bytes allocated%n",
                    c[0], warm[warm.length / 2], warm.length, n, warm[0], allocated / n);
        }
        if (sink == 42) {
            System.out.println();
        }
    }

    /** Read after the loops so that the JIT cannot drop the scans. */
    private static long sink;
}
