package io.switchboard.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaMethodCall;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.Set;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

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

    /**
     * The calls to a {@code block*} method (of {@link Mono}, {@link Flux} or a subclass) main code
     * makes on purpose, each off any event loop, by {@code Owner.method}:
     *
     * <ul>
     *   <li>{@code LastUsedRecorder.close}: at shutdown, on the thread closing the context, a bounded
     *       wait for the last flush of the keys' last-use times.
     * </ul>
     */
    private static final Set<String> INTENDED_BLOCKING_CALLERS = Set.of("io.switchboard.keys.LastUsedRecorder.close");

    @Test
    void mainCodeNeverBlocksOnAPublisher() {
        DescribedPredicate<JavaMethodCall> blockingOnAPublisher =
                new DescribedPredicate<>("a block* method of Mono or Flux") {
                    @Override
                    public boolean test(JavaMethodCall call) {
                        JavaClass owner = call.getTargetOwner();
                        return (owner.isAssignableTo(Mono.class) || owner.isAssignableTo(Flux.class))
                                && call.getName().startsWith("block");
                    }
                };
        DescribedPredicate<JavaMethodCall> intended =
                new DescribedPredicate<>("made by one of " + INTENDED_BLOCKING_CALLERS) {
                    @Override
                    public boolean test(JavaMethodCall call) {
                        JavaCodeUnit origin = call.getOrigin();
                        return INTENDED_BLOCKING_CALLERS.contains(
                                origin.getOwner().getName() + "." + origin.getName());
                    }
                };
        noClasses()
                .should()
                .callMethodWhere(blockingOnAPublisher.and(DescribedPredicate.not(intended)))
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
