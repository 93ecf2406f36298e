package io.switchboard.errors;

import java.io.ByteArrayOutputStream;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.ObjectWriteContext;
import tools.jackson.core.json.JsonFactory;

/** Renders {@code {"error":{"message","type","param","code","request_id"}}} as UTF-8 bytes. */
public final class OpenAiErrorBody {

    private static final JsonFactory JSON = new JsonFactory();

    private OpenAiErrorBody() {}

    public static byte[] render(ErrorCode code, String message, @Nullable String param, @Nullable String requestId) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(160);
        try (JsonGenerator gen = JSON.createGenerator(ObjectWriteContext.empty(), out)) {
            gen.writeStartObject();
            gen.writeName("error");
            gen.writeStartObject();
            gen.writeStringProperty("message", message);
            gen.writeStringProperty("type", code.type());
            gen.writeName("param");
            if (param == null) {
                gen.writeNull();
            } else {
                gen.writeString(param);
            }
            gen.writeStringProperty("code", code.code());
            if (requestId != null) {
                gen.writeStringProperty("request_id", requestId);
            }
            gen.writeEndObject();
            gen.writeEndObject();
        }
        return out.toByteArray();
    }

    /**
     * The same error as one server-sent event, for failures after a stream's 200 status was sent:
     * clients (the OpenAI SDKs among them) raise an error when an event carries {@code error}.
     */
    public static byte[] renderEvent(ErrorCode code, String message, @Nullable String requestId) {
        byte[] json = render(code, message, null, requestId);
        byte[] event = new byte[json.length + 8];
        System.arraycopy("data: ".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, event, 0, 6);
        System.arraycopy(json, 0, event, 6, json.length);
        event[event.length - 2] = '\n';
        event[event.length - 1] = '\n';
        return event;
    }
}
