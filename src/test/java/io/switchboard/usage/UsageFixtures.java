package io.switchboard.usage;

import io.switchboard.exchange.Attribution;
import io.switchboard.exchange.CallerKey;
import io.switchboard.exchange.GatewayExchange;
import io.switchboard.exchange.ProxyEndpoint;
import io.switchboard.exchange.ProxyRequest;
import io.switchboard.testing.TestGateway;
import io.switchboard.upstream.ProviderRegistry;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.math.BigDecimal;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** Builds the usage package's collaborators as the application would bind them. */
final class UsageFixtures {

    private UsageFixtures() {}

    static UsageProperties properties(Map<String, String> settings) {
        return new Binder(new MapConfigurationPropertySource(settings))
                .bindOrCreate("gateway.usage", UsageProperties.class);
    }

    static UsageProperties properties(Path spillFile, String... pairs) {
        var settings = new java.util.HashMap<String, String>();
        settings.put("gateway.usage.spill-file", spillFile.toString());
        for (int i = 0; i < pairs.length; i += 2) {
            settings.put("gateway.usage." + pairs[i], pairs[i + 1]);
        }
        return properties(settings);
    }

    /** Something a test's row writer does before each insert: wait, as a slow database would. */
    interface BeforeInsert {
        void run() throws Exception;
    }

    /** {@code database}, with {@code before} run ahead of each of its inserts. */
    static UsageRowWriter beforeEachInsert(UsageRowWriter database, BeforeInsert before) {
        return new UsageRowWriter() {
            @Override
            public int insert(List<UsageRecord> records) throws Exception {
                before.run();
                return database.insert(records);
            }

            @Override
            public void correct(UsageRecord record) throws Exception {
                database.correct(record);
            }

            @Override
            public void close() {
                database.close();
            }
        };
    }

    static ModelPrices prices(Map<String, PricingProperties.Override> overrides) {
        return new ModelPrices(new PricingProperties(overrides), properties(Map.of()), new ProviderRegistry(Map.of()));
    }

    static GatewayExchange exchange(boolean stream, boolean usageInjected) {
        GatewayExchange exchange = new GatewayExchange(
                "req-" + UUID.randomUUID(),
                ProxyEndpoint.CHAT_COMPLETIONS,
                System.nanoTime(),
                System.currentTimeMillis());
        exchange.caller(new CallerKey("key-1", "team-a", List.of(), null, null, null, null, Attribution.NONE));
        exchange.request(new ProxyRequest(
                ProxyEndpoint.CHAT_COMPLETIONS,
                "nano",
                "openai/gpt-5-nano",
                List.of(),
                stream,
                100L,
                1,
                12,
                !usageInjected,
                usageInjected));
        exchange.provider("openrouter");
        return exchange;
    }

    static UsageRecord record(String keyId, String model, long prompt, long completion, String cost, Instant at) {
        return record(
                UUID.randomUUID().toString(), "req-" + UUID.randomUUID(), keyId, model, prompt, completion, cost, at);
    }

    /** A successful streamed record with these ids. */
    static UsageRecord record(
            String entryId,
            String requestId,
            String keyId,
            String model,
            long prompt,
            long completion,
            String cost,
            Instant at) {
        return new UsageRecord(
                entryId,
                requestId,
                keyId,
                "name-" + keyId,
                "chat_completions",
                model,
                model,
                model,
                "openrouter",
                "OpenAI",
                "gen-" + UUID.randomUUID(),
                true,
                200,
                UsageOutcome.SUCCESS,
                prompt,
                completion,
                prompt + completion,
                0,
                0,
                false,
                cost == null ? null : new BigDecimal(cost),
                cost == null ? "none" : "upstream",
                100,
                10L,
                20L,
                at);
    }

    /** Reads three events of an endless stream, then hangs up: the request id of the exchange. */
    static String leaveMidStream(TestGateway gateway) throws Exception {
        return leaveMidStream(gateway, "openai/gpt-5-nano");
    }

    /** Streams a chat completion of {@code model}, reads three events and leaves; the request's id. */
    static String leaveMidStream(TestGateway gateway, String model) throws Exception {
        HttpResponse<InputStream> response = gateway.http()
                .send(
                        gateway.request("/v1/chat/completions")
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(
                                        "{\"model\":\"" + model + "\",\"stream\":true,\"messages\":[]}"))
                                .build(),
                        HttpResponse.BodyHandlers.ofInputStream());
        String requestId = response.headers().firstValue("X-Request-Id").orElseThrow();
        try (InputStream body = response.body()) {
            BufferedReader reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
            int events = 0;
            String line;
            while (events < 3 && (line = reader.readLine()) != null) {
                if (line.startsWith("data:")) {
                    events++;
                }
            }
        }
        return requestId;
    }
}
