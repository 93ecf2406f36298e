package io.switchboard.demo;

import tools.jackson.databind.JsonNode;

/** The parts of a chat or text completion request the demo upstream reads. */
record DemoRequest(String model, String prompt, int messages, int maxTokens, boolean stream) {

    static DemoRequest chat(JsonNode body) {
        StringBuilder prompt = new StringBuilder();
        int count = 0;
        for (JsonNode message : body.path("messages")) {
            count++;
            JsonNode content = message.path("content");
            if (content.isString()) {
                prompt.append(content.asString()).append('\n');
            } else {
                // Multi-part content: only the text parts count, as for a real tokenizer's text.
                for (JsonNode part : content) {
                    prompt.append(part.path("text").asString("")).append('\n');
                }
            }
        }
        return new DemoRequest(
                modelOf(body),
                prompt.toString(),
                count,
                maxTokensOf(body),
                body.path("stream").asBoolean(false));
    }

    static DemoRequest completion(JsonNode body) {
        JsonNode prompt = body.path("prompt");
        String text = prompt.isArray() ? prompt.path(0).asString("") : prompt.asString("");
        return new DemoRequest(
                modelOf(body), text, 0, maxTokensOf(body), body.path("stream").asBoolean(false));
    }

    private static String modelOf(JsonNode body) {
        return body.path("model").asString("demo/chat");
    }

    private static int maxTokensOf(JsonNode body) {
        JsonNode max = body.has("max_completion_tokens") ? body.path("max_completion_tokens") : body.path("max_tokens");
        return max.asInt(0);
    }
}
