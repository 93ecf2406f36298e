package io.switchboard.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The canned answer to a prompt: the same prompt to the same model always gives the same words, so
 * tests and screenshots are reproducible. One word is one token.
 */
record DemoAnswer(List<String> tokens, boolean truncated) {

    private static final String[] SENTENCES = {
        "This answer comes from the demo upstream built into Switchboard.",
        "It travels through the same proxy path as a real provider would.",
        "Every request is counted in the usage ledger with tokens and cost.",
        "Open the console to watch requests, latency and spend add up.",
        "Set OPENROUTER_API_KEY to talk to real models instead.",
        "Keys, limits and budgets apply to demo models exactly as to real ones.",
        "Streaming answers arrive one token at a time, like a real model.",
        "The text is deterministic, so the same prompt gives the same answer.",
    };

    private static final int DEFAULT_MAX_TOKENS = 48;

    static DemoAnswer to(String model, String prompt, int maxTokens) {
        SplittableRandom random = new SplittableRandom(((long) model.hashCode() << 32) ^ prompt.hashCode());
        int wanted = 20 + random.nextInt(28);
        int limit = maxTokens > 0 ? maxTokens : DEFAULT_MAX_TOKENS;
        List<String> words = new ArrayList<>();
        while (words.size() < wanted) {
            for (String word : SENTENCES[random.nextInt(SENTENCES.length)].split(" ")) {
                words.add(words.isEmpty() ? word : " " + word);
            }
        }
        boolean truncated = words.size() > limit;
        return new DemoAnswer(List.copyOf(words.subList(0, Math.min(limit, words.size()))), truncated);
    }

    /** A rough count in the spirit of real tokenizers: about four characters per token. */
    static long promptTokens(String prompt, int messages) {
        return Math.max(1, (prompt.length() + 3) / 4) + 4L * messages;
    }

    String text() {
        return String.join("", tokens);
    }

    String finishReason() {
        return truncated ? "length" : "stop";
    }
}
