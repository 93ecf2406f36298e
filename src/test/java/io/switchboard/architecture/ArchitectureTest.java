package io.switchboard.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The package rules of the codebase, checked on every build. */
class ArchitectureTest {

    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.switchboard");

    @Test
    void packagesHaveNoCycles() {
        slices().matching("io.switchboard.(*)..").should().beFreeOfCycles().check(MAIN);
    }

    @Test
    void nothingDependsOnTheProxyOrTheAdminApi() {
        noClasses()
                .that()
                .resideOutsideOfPackages("io.switchboard.proxy..", "io.switchboard.config..", "io.switchboard")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("io.switchboard.proxy..")
                .check(MAIN);
        noClasses()
                .that()
                .resideOutsideOfPackages("io.switchboard.admin..", "io.switchboard.config..", "io.switchboard")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("io.switchboard.admin..")
                .allowEmptyShould(true)
                .check(MAIN);
    }

    @Test
    void sharedPackagesDependOnNoFeature() {
        noClasses()
                .that()
                .resideInAnyPackage("io.switchboard.errors..", "io.switchboard.exchange..")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage(
                        "io.switchboard.proxy..",
                        "io.switchboard.keys..",
                        "io.switchboard.usage..",
                        "io.switchboard.ratelimit..",
                        "io.switchboard.metrics..",
                        "io.switchboard.admin..",
                        "io.switchboard.upstream..",
                        "io.switchboard.config..")
                .check(MAIN);
    }

    @Test
    void mainCodeNeverBlocksOnAPublisher() {
        noClasses()
                .should()
                .callMethod(reactor.core.publisher.Mono.class, "block")
                .orShould()
                .callMethod(reactor.core.publisher.Flux.class, "blockFirst")
                .orShould()
                .callMethod(reactor.core.publisher.Flux.class, "blockLast")
                .check(MAIN);
    }

    @Test
    void theProxyNeverAggregatesABody() {
        noClasses()
                .that()
                .resideInAPackage("io.switchboard.proxy..")
                .should()
                .callMethod(reactor.core.publisher.Flux.class, "collectList")
                .orShould()
                .callMethod(
                        org.springframework.core.io.buffer.DataBufferUtils.class,
                        "join",
                        org.reactivestreams.Publisher.class)
                .check(MAIN);
    }
}
