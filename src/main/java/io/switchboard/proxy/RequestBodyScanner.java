package io.switchboard.proxy;

import io.switchboard.errors.ErrorCode;
import io.switchboard.errors.GatewayException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.async.ByteBufferFeeder;
import tools.jackson.core.exc.StreamConstraintsException;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.core.util.JsonRecyclerPools;

/**
 * Reads a request body in one pass as its chunks arrive, with Jackson's non-blocking parser, and
 * records what the gateway needs (the top-level {@code model} and where its bytes are, the
 * {@code models} fallback array, {@code stream}, {@code max_tokens}, {@code stream_options}) without
 * building a tree. Everything else is validated as JSON and left as bytes: the rewrite splices the
 * original body instead of re-serialising it.
 *
 * <p>Offsets are byte offsets in the whole body. Not thread-safe: one scanner per request.
 */
final class RequestBodyScanner {

    /** A JSON string value and the bytes it occupies, quotes included. */
    record StringSpan(String value, long start, long end) {}

    /**
     * The longest {@code models} fallback list taken. OpenRouter tries a few; each aliased entry is
     * rewritten in place, so without a bound a body of a million aliases took the heap with it.
     */
    static final int MAX_FALLBACK_MODELS = 64;

    private static final Set<String> SINGLE_USE_FIELDS =
            Set.of("model", "models", "stream", "stream_options", "max_tokens", "max_completion_tokens", "n");

    private static final int LONGEST_SINGLE_USE_FIELD = "max_completion_tokens".length();

    private final JsonParser parser;
    private final ByteBufferFeeder feeder;
    private final Set<String> seenTopLevel = new HashSet<>(8);
    private boolean started;
    private boolean includeUsageSeen;

    private int depth;
    private boolean rootClosed;
    private int rootMembers;
    private long rootStart = -1;
    private @Nullable String field;
    private boolean inModels;
    private boolean inStreamOptions;
    private @Nullable String streamOptionsField;

    private @Nullable StringSpan model;
    private long modelNullStart = -1;
    private final List<StringSpan> models = new ArrayList<>(0);
    private boolean stream;
    private @Nullable Long maxTokens;
    private int choices = 1;
    private long streamOptionsStart = -1;
    private long streamOptionsNullStart = -1;
    private int streamOptionsMembers;
    private @Nullable Boolean includeUsage;
    private long includeUsageStart = -1;
    private long includeUsageNullStart = -1;

    private final Utf8Check utf8 = new Utf8Check();

    RequestBodyScanner(JsonFactory factory) {
        this.parser = factory.createNonBlockingByteBufferParser(ObjectReadContext.empty());
        this.feeder = (ByteBufferFeeder) parser.nonBlockingInputFeeder();
    }

    /** A JSON factory with the limits of {@code limits}: nesting depth, number and string length. */
    static JsonFactory factory(BodyLimitProperties limits) {
        long maxBody = limits.maxBodySize().toBytes();
        return JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(limits.maxJsonDepth())
                        .maxNumberLength(64)
                        .maxStringLength((int) Math.min(Integer.MAX_VALUE, maxBody))
                        .maxDocumentLength(maxBody)
                        .build())
                // Scanned on the event loops: a buffer recycler per thread, not Jackson's default
                // shared lock-free deque, which every parser took one from and gave it back to.
                .recyclerPool(JsonRecyclerPools.threadLocalPool())
                .build();
    }

    /** Parses the next chunk; the buffer must stay unchanged until this returns. */
    void feed(ByteBuffer chunk) {
        if (!started && chunk.hasRemaining()) {
            started = true;
            if (chunk.get(chunk.position()) == (byte) 0xEF) {
                // A UTF-8 byte order mark: Jackson skips it but counts its byte offsets without it, so
                // every splice would land three bytes early; and JSON on the wire must not have one.
                throw GatewayException.of(
                        ErrorCode.INVALID_JSON,
                        "The request body starts with a byte order mark; send JSON without one (RFC 8259).");
            }
        }
        if (!utf8.accept(chunk)) {
            throw notUtf8();
        }
        try {
            feeder.feedInput(chunk);
            drain();
        } catch (StreamConstraintsException e) {
            throw GatewayException.of(
                    ErrorCode.INVALID_JSON, "The request body exceeds a JSON limit (nesting or size).");
        } catch (JacksonException e) {
            throw invalidJson();
        }
    }

    /** Ends the input; throws 400 unless the body was exactly one JSON object. */
    void finish() {
        if (!utf8.complete()) {
            parser.close();
            throw notUtf8();
        }
        try {
            feeder.endOfInput();
            drain();
        } catch (StreamConstraintsException e) {
            throw GatewayException.of(
                    ErrorCode.INVALID_JSON, "The request body exceeds a JSON limit (nesting or size).");
        } catch (JacksonException e) {
            throw invalidJson();
        } finally {
            parser.close();
        }
        if (!rootClosed) {
            throw rootStart < 0
                    ? GatewayException.of(ErrorCode.INVALID_JSON, "The request body must be a JSON object.")
                    : invalidJson();
        }
    }

    void close() {
        parser.close();
    }

    private void drain() {
        JsonToken token;
        while ((token = parser.nextToken()) != null && token != JsonToken.NOT_AVAILABLE) {
            onToken(token);
        }
    }

    private void onToken(JsonToken token) {
        if (rootClosed) {
            throw GatewayException.of(ErrorCode.INVALID_JSON, "The request body must hold exactly one JSON object.");
        }
        if (depth == 0) {
            if (token != JsonToken.START_OBJECT) {
                throw GatewayException.of(ErrorCode.INVALID_JSON, "The request body must be a JSON object.");
            }
            rootStart = parser.currentTokenLocation().getByteOffset();
            depth = 1;
            return;
        }
        if (depth == 1) {
            onTopLevel(token);
        } else if (depth == 2 && inModels) {
            onModelsEntry(token);
        } else if (depth == 2 && inStreamOptions) {
            onStreamOptionsMember(token);
        } else {
            track(token);
        }
    }

    private void onTopLevel(JsonToken token) {
        if (token == JsonToken.END_OBJECT) {
            depth = 0;
            rootClosed = true;
            return;
        }
        if (token == JsonToken.PROPERTY_NAME) {
            String name = parser.currentName();
            rootMembers++;
            if (SINGLE_USE_FIELDS.contains(name)) {
                if (!seenTopLevel.add(name)) {
                    throw GatewayException.of(
                            ErrorCode.INVALID_REQUEST, "The field '" + name + "' appears more than once.", name);
                }
            } else {
                refuseOtherCase(name);
            }
            field = name;
            return;
        }
        String name = field;
        field = null;
        if (name == null) {
            track(token);
            return;
        }
        switch (name) {
            case "model" -> readModel(token);
            case "models" -> {
                if (token != JsonToken.START_ARRAY && token != JsonToken.VALUE_NULL) {
                    throw GatewayException.of(
                            ErrorCode.INVALID_REQUEST, "'models' must be an array of strings.", "models");
                }
                inModels = token == JsonToken.START_ARRAY;
                track(token);
            }
            case "stream" -> {
                if (token == JsonToken.VALUE_TRUE || token == JsonToken.VALUE_FALSE) {
                    stream = token == JsonToken.VALUE_TRUE;
                } else if (token != JsonToken.VALUE_NULL) {
                    throw GatewayException.of(ErrorCode.INVALID_REQUEST, "'stream' must be a boolean.", "stream");
                }
            }
            case "max_tokens", "max_completion_tokens" -> readMaxTokens(name, token);
            case "n" -> readChoices(token);
            case "stream_options" -> {
                if (token == JsonToken.START_OBJECT) {
                    inStreamOptions = true;
                    streamOptionsStart = parser.currentTokenLocation().getByteOffset();
                } else if (token == JsonToken.VALUE_NULL) {
                    // Kept so that asking for usage replaces it: a second member would be a duplicate key.
                    streamOptionsNullStart = parser.currentTokenLocation().getByteOffset();
                } else {
                    throw GatewayException.of(
                            ErrorCode.INVALID_REQUEST, "'stream_options' must be an object.", "stream_options");
                }
                track(token);
            }
            default -> track(token);
        }
    }

    private void readModel(JsonToken token) {
        if (token == JsonToken.VALUE_NULL) {
            // Kept so that the default model replaces it: a second member would be a duplicate key.
            modelNullStart = parser.currentTokenLocation().getByteOffset();
            return;
        }
        if (token != JsonToken.VALUE_STRING) {
            throw GatewayException.of(ErrorCode.INVALID_REQUEST, "'model' must be a string.", "model");
        }
        model = span("model");
    }

    private void onModelsEntry(JsonToken token) {
        if (token == JsonToken.END_ARRAY) {
            inModels = false;
            depth--;
            return;
        }
        if (token != JsonToken.VALUE_STRING) {
            throw GatewayException.of(ErrorCode.INVALID_REQUEST, "'models' must be an array of strings.", "models");
        }
        if (models.size() == MAX_FALLBACK_MODELS) {
            throw GatewayException.of(
                    ErrorCode.INVALID_REQUEST, "'models' lists at most " + MAX_FALLBACK_MODELS + " models.", "models");
        }
        models.add(span("models"));
    }

    private void onStreamOptionsMember(JsonToken token) {
        if (token == JsonToken.END_OBJECT) {
            inStreamOptions = false;
            depth--;
            return;
        }
        if (token == JsonToken.PROPERTY_NAME) {
            streamOptionsField = parser.currentName();
            streamOptionsMembers++;
            if ("include_usage".equals(streamOptionsField) && includeUsageSeen) {
                // The gateway sets it when it asks for usage: a second member could undo that for an
                // upstream that keeps the last of duplicate keys.
                throw GatewayException.of(
                        ErrorCode.INVALID_REQUEST,
                        "The field 'stream_options.include_usage' appears more than once.",
                        "stream_options.include_usage");
            }
            includeUsageSeen |= "include_usage".equals(streamOptionsField);
            return;
        }
        if ("include_usage".equals(streamOptionsField)) {
            if (token == JsonToken.VALUE_TRUE || token == JsonToken.VALUE_FALSE) {
                includeUsage = token == JsonToken.VALUE_TRUE;
                includeUsageStart = parser.currentTokenLocation().getByteOffset();
            } else if (token == JsonToken.VALUE_NULL) {
                includeUsageNullStart = parser.currentTokenLocation().getByteOffset();
            } else {
                throw GatewayException.of(
                        ErrorCode.INVALID_REQUEST,
                        "'stream_options.include_usage' must be a boolean.",
                        "stream_options.include_usage");
            }
        }
        streamOptionsField = null;
        track(token);
    }

    /**
     * A field the gateway reads, spelled in another case ({@code "Model"}): Go's JSON decoder, which
     * upstreams such as Ollama use, matches field names in any case and keeps the last, so the
     * upstream would serve (and bill) a model the gateway never checked or priced.
     */
    private static void refuseOtherCase(String name) {
        if (name.length() > LONGEST_SINGLE_USE_FIELD) {
            return;
        }
        for (String field : SINGLE_USE_FIELDS) {
            if (field.equalsIgnoreCase(name)) {
                throw GatewayException.of(
                        ErrorCode.INVALID_REQUEST,
                        "Field names are case-sensitive: use '" + field + "', not '" + name + "'.",
                        field);
            }
        }
    }

    private void readMaxTokens(String name, JsonToken token) {
        if (token == JsonToken.VALUE_NULL) {
            return;
        }
        if (token != JsonToken.VALUE_NUMBER_INT) {
            throw GatewayException.of(ErrorCode.INVALID_REQUEST, "'" + name + "' must be a positive integer.", name);
        }
        long value;
        try {
            value = parser.getLongValue();
        } catch (JacksonException e) {
            throw GatewayException.of(ErrorCode.INVALID_REQUEST, "'" + name + "' is too large.", name);
        }
        if (value < 0) {
            throw GatewayException.of(ErrorCode.INVALID_REQUEST, "'" + name + "' must be a positive integer.", name);
        }
        // Both names given: the larger bounds the answer (limits reserve for the worst case).
        maxTokens = maxTokens == null ? value : Math.max(maxTokens, value);
    }

    /**
     * {@code n}: how many choices the answer holds, each up to the completion limit; 0 or less is
     * left for the upstream to judge (as 1 here). Anything but an integer is refused, as for
     * {@code max_tokens}: lenient upstreams serve {@code 4.0} or {@code "4"} as four choices, which
     * the limits and the budget had reserved as one.
     */
    private void readChoices(JsonToken token) {
        if (token == JsonToken.VALUE_NUMBER_INT) {
            try {
                choices = Math.max(1, parser.getIntValue());
            } catch (JacksonException tooLarge) {
                choices = Integer.MAX_VALUE;
            }
        } else if (token != JsonToken.VALUE_NULL) {
            throw GatewayException.of(ErrorCode.INVALID_REQUEST, "'n' must be an integer.", "n");
        }
        track(token);
    }

    private StringSpan span(String param) {
        String value = parser.getString();
        if (value.isEmpty() || value.length() > 256 || !plausibleModelName(value)) {
            throw GatewayException.of(ErrorCode.INVALID_REQUEST, "Invalid model name.", param);
        }
        long start = parser.currentTokenLocation().getByteOffset();
        long end = parser.currentLocation().getByteOffset();
        return new StringSpan(value, start, end);
    }

    /**
     * No control or invisible formatting character (a bidirectional override or a zero-width one, which
     * would make the access log show another name), whitespace, backslash, {@code .} or {@code ..}
     * segment nor URL scheme: no
     * model is named so, and a key's model patterns ({@code openai/*}) compare names as text, so a name
     * that something downstream might resolve as a path or a URL ({@code openai/../anthropic/x}) must
     * not pass them. One pass over the characters, nothing allocated: it runs on every request.
     */
    static boolean plausibleModelName(String value) {
        int segmentStart = 0;
        for (int i = 0; i <= value.length(); ) {
            // By code point: invisible tag characters (U+E0000 block) are surrogate pairs in UTF-16.
            int c = i < value.length() ? value.codePointAt(i) : '/';
            if (Character.isISOControl(c)
                    || Character.isWhitespace(c)
                    || Character.isSpaceChar(c)
                    || c == '\\'
                    || (c > 0x7f && invisible(Character.getType(c)))) {
                return false;
            }
            if (c == ':' && value.startsWith("//", i + 1)) {
                return false;
            }
            if (c == '/') {
                int length = i - segmentStart;
                boolean dots =
                        length >= 1 && length <= 2 && value.charAt(segmentStart) == '.' && value.charAt(i - 1) == '.';
                if (dots) {
                    return false;
                }
                segmentStart = i + 1;
            }
            i += Character.charCount(c);
        }
        return true;
    }

    /** Formatting characters show nothing; a lone surrogate is half a character. */
    private static boolean invisible(int type) {
        return type == Character.FORMAT || type == Character.SURROGATE;
    }

    private void track(JsonToken token) {
        if (token == JsonToken.START_OBJECT || token == JsonToken.START_ARRAY) {
            depth++;
        } else if (token == JsonToken.END_OBJECT || token == JsonToken.END_ARRAY) {
            depth--;
        }
    }

    private static GatewayException notUtf8() {
        return GatewayException.of(ErrorCode.INVALID_JSON, "The request body is not well-formed UTF-8.");
    }

    private static GatewayException invalidJson() {
        return GatewayException.of(ErrorCode.INVALID_JSON, "The request body is not valid JSON.");
    }

    // what the pass found

    @Nullable
    StringSpan model() {
        return model;
    }

    List<StringSpan> models() {
        return models;
    }

    boolean stream() {
        return stream;
    }

    @Nullable
    Long maxTokens() {
        return maxTokens;
    }

    int choices() {
        return choices;
    }

    long rootStart() {
        return rootStart;
    }

    int rootMembers() {
        return rootMembers;
    }

    /** Where {@code "model":null} has its {@code null}; -1 when the model is not null or absent. */
    long modelNullStart() {
        return modelNullStart;
    }

    long streamOptionsStart() {
        return streamOptionsStart;
    }

    /** Where {@code "stream_options":null} has its {@code null}; -1 when it is not null or absent. */
    long streamOptionsNullStart() {
        return streamOptionsNullStart;
    }

    /** Where {@code "include_usage":null} has its {@code null}; -1 when it is not null or absent. */
    long includeUsageNullStart() {
        return includeUsageNullStart;
    }

    int streamOptionsMembers() {
        return streamOptionsMembers;
    }

    @Nullable
    Boolean includeUsage() {
        return includeUsage;
    }

    long includeUsageStart() {
        return includeUsageStart;
    }
}
