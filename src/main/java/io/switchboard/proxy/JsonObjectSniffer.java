package io.switchboard.proxy;

import io.netty.buffer.ByteBuf;
import org.jspecify.annotations.Nullable;
import org.springframework.http.MediaType;

/** Tells whether an upstream error body looks like a JSON object (an OpenAI-style error) worth passing on. */
final class JsonObjectSniffer {

    private JsonObjectSniffer() {}

    static boolean isJsonObject(@Nullable MediaType type, ByteBuf body) {
        if (type != null && !type.getSubtype().contains("json")) {
            return false;
        }
        int first = body.forEachByte(b -> b == ' ' || b == '\n' || b == '\r' || b == '\t');
        int last = body.forEachByteDesc(b -> b == ' ' || b == '\n' || b == '\r' || b == '\t');
        return first >= 0 && last > first && body.getByte(first) == '{' && body.getByte(last) == '}';
    }
}
