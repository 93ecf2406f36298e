package io.switchboard.demo;

import java.util.List;

/**
 * A model the demo upstream lists, with prices in USD per token as OpenRouter publishes them. Any
 * other {@code demo/*} name is answered too, at the price of {@code demo/chat}.
 */
record DemoModel(String id, String name, String description, double promptPrice, double completionPrice) {

    static final String FAILING = "demo/error";

    static final List<DemoModel> CATALOG = List.of(
            new DemoModel(
                    "demo/chat",
                    "Demo Chat",
                    "Deterministic canned answers, streamed at a realistic pace.",
                    0.0000005,
                    0.0000015),
            new DemoModel(
                    "demo/mini",
                    "Demo Mini",
                    "A cheaper demo model with the same canned answers.",
                    0.0000001,
                    0.0000004),
            new DemoModel(
                    "demo/large", "Demo Large", "An expensive demo model, to see cost add up.", 0.000003, 0.000015),
            new DemoModel(
                    FAILING, "Demo Error", "Always answers 503, to see failures in the console and metrics.", 0, 0),
            new DemoModel("demo/embed", "Demo Embeddings", "Deterministic 16-dimension embeddings.", 0.00000002, 0));

    static DemoModel forId(String id) {
        for (DemoModel model : CATALOG) {
            if (model.id.equals(id)) {
                return model;
            }
        }
        DemoModel fallback = CATALOG.get(0);
        return new DemoModel(id, id, fallback.description, fallback.promptPrice, fallback.completionPrice);
    }

    double cost(long promptTokens, long completionTokens) {
        // Rounded to a nano-dollar so the sums the ledger and the console show stay readable.
        return Math.round((promptTokens * promptPrice + completionTokens * completionPrice) * 1e9) / 1e9;
    }
}
