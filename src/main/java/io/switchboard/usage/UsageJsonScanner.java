package io.switchboard.usage;

import java.math.BigDecimal;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.async.ByteArrayFeeder;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.core.util.JsonRecyclerPools;

/**
 * Reads one JSON document fed in pieces (a chat completion body chunk by chunk, or the {@code data:}
 * payload of one server-sent event) and keeps only what accounting needs: the response id, served
 * model and provider, the {@code usage} object, an in-band {@code error} with {@code
 * finish_reason:"error"}, and whether a choice carried content. Nothing else of the document is kept,
 * so the body is never held. A malformed document stops the scan, never the relay.
 *
 * <p>A document in pieces goes through Jackson's non-blocking parser, behind a {@link LongStringElider};
 * a document already whole (one event's payload) through its plain parser over the bytes ({@link
 * #whole}), which skips the strings it is not asked for without decoding them, and so needs no
 * elider: a fifth to a quarter less time per event (see {@code docs/benchmarks.md}).
 */
final class UsageJsonScanner {

    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(64)
                    .maxNumberLength(64)
                    .build())
            // The scanners run on the event loops, a few threads that live as long as the server:
            // a buffer recycler per thread, not the shared lock-free deque every parser took one
            // from and gave it back to.
            .recyclerPool(JsonRecyclerPools.threadLocalPool())
            .build();

    private static final int MAX_DEPTH = 64;
    /** Bytes of a string the parser sees at most: more than any identifier the scanner keeps. */
    private static final int STRING_KEEP = 4096;

    private final JsonParser parser;
    /** How a document in pieces reaches the parser; null for a document scanned whole. */
    private final @Nullable Pieces pieces;
    /** The property (or "[]" for an array element) that opened each level; grown up to MAX_DEPTH. */
    private String[] names = new String[8];

    private boolean[] arrays = new boolean[8];
    private int depth;
    private @Nullable String pendingName;
    private boolean failed;
    private boolean ended;

    // What this document said.
    @Nullable
    String id;

    @Nullable
    String model;

    @Nullable
    String provider;

    /** A token count was read from a top-level {@code usage} object (an empty one counts nothing). */
    boolean usageSeen;
    /** The document has a top-level {@code usage} object, whatever it holds. */
    private boolean usageObject;

    long promptTokens = -1;
    long completionTokens = -1;
    long totalTokens = -1;
    long cachedTokens = -1;
    long reasoningTokens = -1;

    @Nullable
    BigDecimal cost;

    boolean error;
    boolean finishError;
    int choices;
    boolean content;

    /** A scanner for a document that comes in pieces: {@link #feed}, then {@link #end} and {@link #close}. */
    UsageJsonScanner() {
        this.parser = JSON.createNonBlockingByteArrayParser(ObjectReadContext.empty());
        this.pieces = new Pieces((ByteArrayFeeder) parser.nonBlockingInputFeeder());
    }

    private UsageJsonScanner(JsonParser whole) {
        this.parser = whole;
        this.pieces = null;
    }

    /** Scans the whole document in {@code bytes[offset, offset + length)} (not kept) and closes the parser. */
    static UsageJsonScanner whole(byte[] bytes, int offset, int length) {
        UsageJsonScanner scanner =
                new UsageJsonScanner(JSON.createParser(ObjectReadContext.empty(), bytes, offset, length));
        try {
            scanner.drain();
        } catch (JacksonException | IllegalStateException e) {
            scanner.failed = true;
        } finally {
            scanner.close();
        }
        return scanner;
    }

    /** Feeds the next bytes of a document in pieces; the array is not kept past this call. */
    void feed(byte[] bytes, int offset, int length) {
        Pieces in = pieces;
        if (in == null || failed || ended || length == 0) {
            return;
        }
        try {
            in.strings.feed(bytes, offset, length, in);
        } catch (JacksonException | IllegalStateException e) {
            failed = true;
        }
    }

    /** No more pieces will come. */
    void end() {
        Pieces in = pieces;
        if (in == null || failed || ended) {
            return;
        }
        ended = true;
        try {
            in.feeder.endOfInput();
            drain();
        } catch (JacksonException | IllegalStateException e) {
            failed = true;
        }
    }

    boolean failed() {
        return failed;
    }

    /**
     * The event held usage and no choice: the usage-only event that ends an OpenAI-style stream. A
     * malformed event is never one (it is relayed unchanged, whatever it seemed to hold).
     */
    boolean usageOnly() {
        return usageObject && choices == 0 && !failed;
    }

    void close() {
        parser.close();
    }

    private void drain() {
        JsonToken token;
        while ((token = parser.nextToken()) != null && token != JsonToken.NOT_AVAILABLE) {
            switch (token) {
                case PROPERTY_NAME -> pendingName = parser.currentName();
                case START_OBJECT, START_ARRAY -> open(token == JsonToken.START_ARRAY);
                case END_OBJECT, END_ARRAY -> depth--;
                default -> scalar(token);
            }
            if (token != JsonToken.PROPERTY_NAME) {
                pendingName = null;
            }
        }
    }

    private void open(boolean array) {
        String name = depth > 0 && arrays[depth - 1] ? "[]" : pendingName;
        if (depth == 1 && name != null) {
            if (name.equals("usage") && !array) {
                usageObject = true;
            } else if (name.equals("error")) {
                error = true;
            }
        } else if (depth == 2 && !array && "[]".equals(name) && "choices".equals(names[1])) {
            choices++;
        } else if (depth == 4
                && array
                && "tool_calls".equals(name)
                && "choices".equals(names[1])
                && "delta".equals(names[3])) {
            // A tool call's name and arguments arrive as deltas of their own: generated tokens too.
            content = true;
        }
        if (depth < MAX_DEPTH) {
            if (depth == names.length) {
                names = Arrays.copyOf(names, Math.min(MAX_DEPTH, depth * 2));
                arrays = Arrays.copyOf(arrays, names.length);
            }
            names[depth] = name;
            arrays[depth] = array;
        }
        depth++;
    }

    private void scalar(JsonToken token) {
        String name = pendingName;
        if (name == null || depth > MAX_DEPTH) {
            return;
        }
        if (depth == 1) {
            root(name, token);
        } else if ("usage".equals(names[1])) {
            usage(name, token);
        } else if (depth == 3 && "choices".equals(names[1]) && name.equals("finish_reason")) {
            finishError |= token == JsonToken.VALUE_STRING && "error".equals(parser.getString());
        } else if (depth == 3 && "choices".equals(names[1]) && name.equals("text")) {
            // The legacy /v1/completions stream: a choice's text, not a delta.
            content |= token == JsonToken.VALUE_STRING && parser.getStringLength() > 0;
        } else if (depth == 4 && "choices".equals(names[1]) && "delta".equals(names[3])) {
            if ((name.equals("content") || name.equals("reasoning")) && token == JsonToken.VALUE_STRING) {
                content |= parser.getStringLength() > 0;
            }
        }
    }

    private void root(String name, JsonToken token) {
        switch (name) {
            case "id" -> id = string(token, id);
            case "model" -> model = string(token, model);
            case "provider" -> provider = string(token, provider);
            case "error" -> error |= token != JsonToken.VALUE_NULL && token != JsonToken.VALUE_FALSE;
            default -> {}
        }
    }

    private void usage(String name, JsonToken token) {
        if (!token.isNumeric()) {
            return;
        }
        if (depth == 2) {
            switch (name) {
                case "prompt_tokens", "input_tokens" -> {
                    promptTokens = parser.getValueAsLong();
                    usageSeen = true;
                }
                case "completion_tokens", "output_tokens" -> {
                    completionTokens = parser.getValueAsLong();
                    usageSeen = true;
                }
                case "total_tokens" -> {
                    totalTokens = parser.getValueAsLong();
                    usageSeen = true;
                }
                case "cost" -> cost = UsageRecord.reportedCost(parser.getDecimalValue());
                default -> {}
            }
        } else if (depth == 3) {
            String details = names[2];
            if (name.equals("cached_tokens")
                    && ("prompt_tokens_details".equals(details) || "input_tokens_details".equals(details))) {
                cachedTokens = parser.getValueAsLong();
            } else if (name.equals("reasoning_tokens")
                    && ("completion_tokens_details".equals(details) || "output_tokens_details".equals(details))) {
                reasoningTokens = parser.getValueAsLong();
            }
        }
    }

    private @Nullable String string(JsonToken token, @Nullable String previous) {
        if (token != JsonToken.VALUE_STRING) {
            return previous;
        }
        String value = parser.getString();
        // Identifiers only: a provider that sent a huge string here gets it cut, not stored whole.
        return value.length() > 200 ? value.substring(0, 200) : value;
    }

    /** The non-blocking parser's feeder behind the long-string elider, which hands it what it keeps. */
    private final class Pieces implements LongStringElider.Sink {
        private final ByteArrayFeeder feeder;
        private final LongStringElider strings = new LongStringElider(STRING_KEEP);

        Pieces(ByteArrayFeeder feeder) {
            this.feeder = feeder;
        }

        @Override
        public void accept(byte[] bytes, int from, int to) {
            feeder.feedInput(bytes, from, to);
            drain();
        }
    }
}
