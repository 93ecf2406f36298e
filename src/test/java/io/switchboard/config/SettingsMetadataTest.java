package io.switchboard.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Every setting the README's table names is known to an IDE: its completion and checks read the
 * configuration metadata that the build writes from the properties records (and from
 * {@code additional-spring-configuration-metadata.json} for what the records cannot say, such as the
 * settings of a provider in the {@code gateway.providers} map).
 */
class SettingsMetadataTest {

    private static final Pattern SETTING_ROW = Pattern.compile("^\\| `((?:gateway|spring|server)\\.[^`]+)`([^|]*)\\|");
    private static final Pattern MORE_NAMES = Pattern.compile("`([^`]+)`");

    @Test
    void everySettingInTheReadmeHasMetadata() throws IOException {
        Set<String> known = metadataNames();
        List<String> named = readmeSettings();
        assertThat(named).as("settings read from the README's table").hasSizeGreaterThan(50);
        assertThat(named).allSatisfy(name -> assertThat(known).as("metadata").contains(name));
    }

    @Test
    void theDefaultProvidersSettingsCarryTheirDefaults() throws IOException {
        JsonNode property = property("gateway.providers.openrouter.response-timeout");
        assertThat(property.get("defaultValue").asString()).isEqualTo("120s");
        assertThat(property("gateway.providers.openrouter.base-url")
                        .get("defaultValue")
                        .asString())
                .isEqualTo("https://openrouter.ai/api/v1");
    }

    /** The README's names, a provider's {@code <name>} as {@code openrouter}, map entries as their map. */
    private static List<String> readmeSettings() throws IOException {
        List<String> names = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("README.md"))) {
            Matcher row = SETTING_ROW.matcher(line);
            if (!row.find()) {
                continue;
            }
            String first = row.group(1);
            names.add(normalize(first));
            // "`a.b.x` / `.y` / `z`": siblings of the first name.
            Matcher more = MORE_NAMES.matcher(row.group(2));
            String parent = first.substring(0, first.lastIndexOf('.') + 1);
            while (more.find()) {
                String sibling = more.group(1);
                if (sibling.equals(sibling.toUpperCase())) {
                    continue; // an environment variable, such as GATEWAY_ADMIN_KEY
                }
                names.add(normalize(sibling.startsWith(".") ? parent + sibling.substring(1) : parent + sibling));
            }
        }
        return names;
    }

    private static String normalize(String name) {
        String provider = name.replace("<name>", "openrouter");
        int entry = provider.indexOf('[');
        if (entry >= 0) {
            // A map's or a list's entries: the IDE knows the map (gateway.models.aliases).
            return provider.substring(0, entry);
        }
        return provider.endsWith(".*") ? provider.substring(0, provider.length() - 2) : provider;
    }

    private static Set<String> metadataNames() throws IOException {
        Set<String> names = new HashSet<>();
        for (JsonNode file : metadataFiles()) {
            file.path("properties").forEach(p -> names.add(p.get("name").asString()));
            file.path("groups").forEach(g -> names.add(g.get("name").asString()));
        }
        return names;
    }

    private static JsonNode property(String name) throws IOException {
        for (JsonNode file : metadataFiles()) {
            for (JsonNode p : file.path("properties")) {
                if (p.get("name").asString().equals(name)) {
                    return p;
                }
            }
        }
        throw new AssertionError("no metadata for " + name);
    }

    /** The gateway's own metadata (written by the build) and Spring Boot's, as an IDE reads them all. */
    private static List<JsonNode> metadataFiles() throws IOException {
        JsonMapper json = JsonMapper.builder().build();
        List<JsonNode> files = new ArrayList<>();
        Enumeration<URL> found =
                SettingsMetadataTest.class.getClassLoader().getResources("META-INF/spring-configuration-metadata.json");
        boolean own = false;
        while (found.hasMoreElements()) {
            URL url = found.nextElement();
            own |= url.getProtocol().equals("file");
            try (InputStream in = url.openStream()) {
                files.add(json.readTree(in));
            }
        }
        assertThat(own).as("the gateway's own metadata, written by the build").isTrue();
        return files;
    }
}
