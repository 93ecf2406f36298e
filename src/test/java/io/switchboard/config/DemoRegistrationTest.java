package io.switchboard.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.demo.DemoProperties;
import io.switchboard.demo.DemoUpstreamServer;
import io.switchboard.upstream.AttributionProperties;
import io.switchboard.upstream.ProviderRegistry;
import io.switchboard.upstream.UpstreamProperties;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;

/** When the demo upstream starts, and how it joins the provider registry. */
class DemoRegistrationTest {

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties({UpstreamProperties.class, AttributionProperties.class, DemoProperties.class})
    static class Properties {}

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withUserConfiguration(Properties.class, DemoConfiguration.class, UpstreamConfiguration.class)
            .withPropertyValues(
                    "gateway.providers.openrouter.base-url=https://openrouter.ai/api/v1",
                    "gateway.providers.openrouter.stream-usage=always");

    @Test
    void withoutAnyProviderKeyDemoModelsGoToTheDemoUpstreamAndOthersToOpenRouter() {
        runner.run(context -> {
            assertThat(context).hasSingleBean(DemoUpstreamServer.class);
            ProviderRegistry registry = context.getBean(ProviderRegistry.class);
            DemoUpstreamServer demo = context.getBean(DemoUpstreamServer.class);
            assertThat(registry.forModel("demo/chat").name()).isEqualTo("demo");
            assertThat(registry.forModel("demo/chat").baseUrl()).isEqualTo(demo.baseUrl());
            assertThat(registry.forModel("openai/gpt-5-nano").name()).isEqualTo("openrouter");
        });
    }

    @Test
    void aConfiguredProviderKeyTurnsTheDemoOff() {
        runner.withPropertyValues("gateway.providers.openrouter.api-key=sk-or-v1-test")
                .run(context -> {
                    assertThat(context).doesNotHaveBean(DemoUpstreamServer.class);
                    ProviderRegistry registry = context.getBean(ProviderRegistry.class);
                    assertThat(registry.all()).extracting(p -> p.name()).containsExactly("openrouter");
                });
    }

    @Test
    void explicitSettingWinsOverTheDefault() {
        runner.withPropertyValues("gateway.providers.openrouter.api-key=sk-or-v1-test", "gateway.demo.enabled=true")
                .run(context -> assertThat(context).hasSingleBean(DemoUpstreamServer.class));
        runner.withPropertyValues("gateway.demo.enabled=false")
                .run(context -> assertThat(context).doesNotHaveBean(DemoUpstreamServer.class));
    }

    @Test
    void stoppingTheApplicationClosesTheDemoPort() {
        String[] url = new String[1];
        runner.run(context ->
                url[0] = context.getBean(DemoUpstreamServer.class).baseUrl().toString());
        assertThat(reactor.netty.http.client.HttpClient.create()
                        .get()
                        .uri(url[0] + "/models")
                        .response()
                        .map(r -> "answered")
                        .onErrorReturn("refused")
                        .block(java.time.Duration.ofSeconds(5)))
                .isEqualTo("refused");
    }
}
