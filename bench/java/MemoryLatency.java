import java.util.SplittableRandom;

/**
 * Prints the average time of a dependent random read in a 1 MiB and a 64 MiB array (a pointer
 * chase, so no prefetching helps): the machine's cache and memory latency as the gateway feels it.
 */
public final class MemoryLatency {

    public static void main(String[] args) {
        StringBuilder out = new StringBuilder();
        for (int mib : new int[] {1, 64}) {
            out.append(out.length() == 0 ? "" : ", ")
                    .append(String.format("%.0f ns in %d MiB", chase(mib), mib));
        }
        System.out.println(out);
    }

    private static double chase(int mib) {
        int n = mib * 1024 * 1024 / Integer.BYTES;
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        SplittableRandom random = new SplittableRandom(42);
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int swap = order[i];
            order[i] = order[j];
            order[j] = swap;
        }
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            next[order[i]] = order[(i + 1) % n];
        }
        int at = 0;
        for (int i = 0; i < 1_000_000; i++) { // warm the JIT and the caches
            at = next[at];
        }
        int steps = 5_000_000;
        long start = System.nanoTime();
        for (int i = 0; i < steps; i++) {
            at = next[at];
        }
        long took = System.nanoTime() - start;
        return at == -1 ? 0 : (double) took / steps;
    }
}
