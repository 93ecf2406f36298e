package io.switchboard.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.switchboard.testing.RunningGateway;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * The console in a real headless Chromium, the way an operator uses it: sign in with the admin key,
 * create a key and see its secret once, edit its limits, rotate it, send traffic with it through
 * the data plane to the demo upstream, find that traffic in the overview and the by-key table, revoke the key and see the data
 * plane refuse it. Screenshots of every page land in {@code target/screenshots/}.
 */
@RunningGateway
class ConsoleBrowserIT {

    private static final Path SCREENSHOTS = Path.of("target/screenshots");
    private static final Duration WAIT = Duration.ofSeconds(20);

    @LocalServerPort
    int port;

    /** One client for the admin API calls a test makes beside the browser. */
    private final HttpClient admin = HttpClient.newHttpClient();

    private WebDriver browser;
    private WebDriverWait wait;
    private Path profile;

    @BeforeEach
    void startBrowser() throws IOException {
        String chromium = firstExisting(
                System.getenv("CHROME_BIN"),
                "/usr/bin/chromium",
                "/usr/bin/chromium-browser",
                "/usr/bin/google-chrome");
        String driver =
                firstExisting(System.getenv("CHROMEDRIVER"), "/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver");
        // Skipped only on a developer machine without Chromium; under CI a missing browser fails.
        boolean ci = System.getenv("CI") != null
                && !System.getenv("CI").isBlank()
                && !"false".equalsIgnoreCase(System.getenv("CI"));
        if (!ci) {
            assumeTrue(
                    chromium != null && driver != null,
                    "no Chromium/ChromeDriver installed (apt-get install chromium chromium-driver)");
        }
        assertThat(chromium)
                .as("Chromium binary (CI is set: this test must run)")
                .isNotNull();
        assertThat(driver)
                .as("ChromeDriver binary (CI is set: this test must run)")
                .isNotNull();

        profile = Files.createTempDirectory("switchboard-chromium-");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(chromium);
        options.addArguments(
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                "--user-data-dir=" + profile);
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        // An explicit driver binary: Selenium Manager never tries to download one.
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(driver))
                .usingAnyFreePort()
                .build();
        browser = new ChromeDriver(service, options);
        browser.manage().window().setSize(new Dimension(1280, 900));
        wait = new WebDriverWait(browser, WAIT);
        // The console re-renders its tables as data arrives: an element found in one render may be
        // gone when read; every wait finds it again instead of failing (seen once in CI).
        wait.ignoring(StaleElementReferenceException.class);
        Files.createDirectories(SCREENSHOTS);
    }

    @AfterEach
    void stopBrowser() throws IOException {
        if (browser != null) {
            browser.quit();
        }
        if (profile != null) {
            try (var files = Files.walk(profile)) {
                files.sorted(java.util.Comparator.reverseOrder())
                        .map(Path::toFile)
                        .forEach(File::delete);
            }
        }
    }

    @Test
    void operatorCreatesAKeySeesItsTrafficAndRevokesIt() throws Exception {
        // Sign in: a wrong key is refused in the form, the right one opens the console.
        browser.get(url("/console"));
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("login-form")));
        assertThat(browser.getCurrentUrl()).endsWith("/console/");
        screenshot("01-login");
        signIn("not-the-admin-key");
        WebElement loginError = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("login-error")));
        assertThat(loginError.getText()).contains("refused");
        signIn(RunningGateway.ADMIN_KEY);
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("overview-body")));
        wait.until(d -> !d.findElements(
                        By.cssSelector("#overview-cards, #overview-body .empty, #overview-body .error-box"))
                .isEmpty());
        assertThat(browser.findElements(By.cssSelector("#overview-body .error-box")))
                .isEmpty();
        // The admin key lives in this tab's sessionStorage only: not in the URL, not in a cookie.
        assertThat(browser.getCurrentUrl()).doesNotContain(RunningGateway.ADMIN_KEY);
        assertThat(browser.manage().getCookies()).isEmpty();
        assertThat(js("return sessionStorage.getItem('switchboard.adminKey')")).isEqualTo(RunningGateway.ADMIN_KEY);

        // Create a key with limits: the secret is shown once, with a copy button.
        navigate("keys");
        wait.until(ExpectedConditions.elementToBeClickable(By.id("new-key"))).click();
        type("key-name", "browser-team");
        type("key-models", "demo/*");
        type("key-rpm", "600");
        type("key-budget_usd", "25");
        type("key-metadata", "team=console\nowner=selenium");
        screenshot("02-keys-new");
        browser.findElement(By.id("key-submit")).click();
        String secret = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("key-secret")))
                .getText();
        assertThat(secret).startsWith("sk-gw-");
        assertThat(browser.findElement(By.id("copy-secret")).isDisplayed()).isTrue();
        WebElement row = wait.until(
                ExpectedConditions.presenceOfElementLocated(By.cssSelector("tr[data-key-name='browser-team']")));
        String keyId = row.getAttribute("data-key-id");
        assertThat(row.getText()).contains("browser-team", "Active", "demo/*", "600 rpm", "$25.00");
        screenshot("03-keys-secret-once");
        browser.findElement(By.id("dismiss-secret")).click();
        browser.navigate().refresh();
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("tr[data-key-name='browser-team']")));
        assertThat(browser.getPageSource()).doesNotContain(secret);

        // Edit its limits in the dialog.
        clickKeyButton(keyId, "edit");
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("edit-dialog")));
        type("key-rpm", "900");
        screenshot("04-keys-edit");
        browser.findElement(By.id("key-submit")).click();
        wait.until(ExpectedConditions.invisibilityOfElementLocated(By.id("edit-dialog")));
        wait.until(d -> d.findElement(By.cssSelector("tr[data-key-id='" + keyId + "']"))
                .getText()
                .contains("900 rpm"));
        // The edit sent what changed, nothing else: the audit trail names only the limit.
        assertThat(adminGet("/admin/audit?key_id=" + keyId))
                .contains("\"key.update\"", "rpm")
                .doesNotContain("attribution");

        // Attribution: set two fields, then clear one; the other stays (the API merges field by field).
        editKey(keyId, () -> {
            type("key-referer", "https://console.example");
            type("key-title", "Console Team");
        });
        assertThat(adminGet("/admin/keys/" + keyId))
                .contains("\"referer\":\"https://console.example\"", "\"title\":\"Console Team\"");
        editKey(keyId, () -> browser.findElement(By.id("key-title")).clear());
        assertThat(adminGet("/admin/keys/" + keyId))
                .contains("\"referer\":\"https://console.example\"", "\"title\":null");

        // Rotate it without grace: a new secret, shown once; the old one is refused at once.
        clickKeyButton(keyId, "rotate");
        wait.until(ExpectedConditions.elementToBeClickable(By.id("rotate-dialog-ok")))
                .click();
        String rotated = wait.until(d -> {
            String shown = d.findElement(By.id("key-secret")).getText();
            return shown.startsWith("sk-gw-") && !shown.equals(secret) ? shown : null;
        });
        browser.findElement(By.id("dismiss-secret")).click();
        assertRefused(secret);

        // Traffic with the new secret through the data plane, to the demo upstream: two answers, one stream.
        OpenAIClient client = client(rotated);
        try {
            client.chat().completions().create(chat());
            client.chat().completions().create(chat());
            try (StreamResponse<ChatCompletionChunk> stream =
                    client.chat().completions().createStreaming(chat())) {
                assertThat(stream.stream().count()).isPositive();
            }
        } finally {
            client.close();
        }

        // The overview counts it (usage is written in batches: reload until it shows).
        navigate("overview");
        await().atMost(WAIT)
                .pollInterval(Duration.ofMillis(500))
                // The page re-renders when its sparklines arrive: an element may go stale mid-check.
                .ignoreExceptionsInstanceOf(StaleElementReferenceException.class)
                .untilAsserted(() -> {
                    browser.navigate().refresh();
                    WebElement requests = wait.until(
                            ExpectedConditions.visibilityOfElementLocated(By.cssSelector("#card-requests .value")));
                    assertThat(Long.parseLong(requests.getText().replace(",", "")))
                            .isGreaterThanOrEqualTo(3);
                });
        wait.until(d -> d.findElements(By.cssSelector(".charts .uplot")).size() >= 4);
        screenshot("05-overview");

        // The by-key table has a row for the key with its three requests.
        navigate("by-key");
        await().atMost(WAIT)
                .pollInterval(Duration.ofMillis(500))
                // The page re-renders when its sparklines arrive: an element may go stale mid-check.
                .ignoreExceptionsInstanceOf(StaleElementReferenceException.class)
                .untilAsserted(() -> {
                    browser.navigate().refresh();
                    WebElement keyRow = wait.until(ExpectedConditions.presenceOfElementLocated(
                            By.cssSelector("#breakdown-table tr[data-group='" + keyId + "']")));
                    List<WebElement> cells = keyRow.findElements(By.tagName("td"));
                    assertThat(cells.get(0).getText()).contains("browser-team");
                    assertThat(cells.get(1).getText()).isEqualTo("3");
                });
        screenshot("06-by-key");

        navigate("by-model");
        wait.until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("#breakdown-table tr[data-group='demo/chat']")));
        screenshot("07-by-model");

        navigate("live");
        WebElement live = wait.until(ExpectedConditions.presenceOfElementLocated(By.id("live-table")));
        assertThat(live.getText()).contains("demo/chat", "browser-team");
        screenshot("08-live");

        // Phone width: the same pages still work.
        browser.manage().window().setSize(new Dimension(390, 844));
        navigate("overview");
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("#card-requests .value")));
        screenshot("09-overview-phone");
        navigate("keys");
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("tr[data-key-id='" + keyId + "']")));
        screenshot("09-keys-phone");
        browser.manage().window().setSize(new Dimension(1280, 900));

        // Revoke it from the keys page; the data plane refuses it at once.
        navigate("keys");
        clickKeyButton(keyId, "revoke");
        wait.until(ExpectedConditions.elementToBeClickable(By.id("revoke-dialog-ok")))
                .click();
        wait.until(ExpectedConditions.invisibilityOfElementLocated(By.cssSelector("tr[data-key-id='" + keyId + "']")));
        browser.findElement(By.id("show-revoked")).click();
        WebElement revoked = wait.until(
                ExpectedConditions.presenceOfElementLocated(By.cssSelector("tr[data-key-id='" + keyId + "']")));
        assertThat(revoked.getText()).contains("Revoked");
        screenshot("10-keys-revoked");
        assertRefused(rotated);

        // No script error on any page (the refused sign-in's 401 is the only failed load expected).
        List<String> errors = browser.manage().logs().get(LogType.BROWSER).getAll().stream()
                .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue())
                .map(LogEntry::getMessage)
                .filter(m -> !m.contains("Failed to load resource"))
                .toList();
        assertThat(errors).as("errors in the browser console").isEmpty();
    }

    @Test
    void customDatesStartFromTheBrowsersOwnCalendarDay() {
        // A zone whose calendar day differs from UTC's right now: +14 h from 10:00 UTC, else -11 h.
        java.time.ZoneId zone = java.time.ZoneId.of(
                java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC).getHour() >= 10
                        ? "Pacific/Kiritimati"
                        : "Pacific/Pago_Pago");
        String today = java.time.LocalDate.now(zone).toString();
        assertThat(today)
                .isNotEqualTo(java.time.LocalDate.now(java.time.ZoneOffset.UTC).toString());
        ((ChromeDriver) browser)
                .executeCdpCommand("Emulation.setTimezoneOverride", java.util.Map.of("timezoneId", zone.getId()));
        browser.get(url("/console"));
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("login-form")));
        signIn(RunningGateway.ADMIN_KEY);
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("range-preset")));
        new org.openqa.selenium.support.ui.Select(browser.findElement(By.id("range-preset"))).selectByValue("custom");

        wait.until(d -> today.equals(d.findElement(By.id("range-from")).getDomProperty("value")));
        assertThat(browser.findElement(By.id("range-to")).getDomProperty("value"))
                .isEqualTo(today);
        assertThat(browser.findElement(By.id("range-to")).getDomAttribute("max"))
                .isEqualTo(today);
    }

    @Test
    void editingAKeyInTheConsoleKeepsMetadataLabelsItDidNotTouch() throws Exception {
        // A label name the API takes but the form's key=value lines cannot show faithfully.
        String name = "labels-" + UUID.randomUUID().toString().substring(0, 8);
        String keyId = io.switchboard.testing.AdminApi.JSON
                .readTree(createKey("{\"name\":\"%s\",\"metadata\":{\"env=prod\":\"x\"}}".formatted(name)))
                .get("id")
                .asString();

        openKeysPage();
        type("keys-search", name);
        editKey(keyId, () -> type("key-rpm", "77"));

        wait.until(d -> {
            try {
                return adminGet("/admin/keys/" + keyId).contains("\"rpm\":77");
            } catch (Exception e) {
                return false;
            }
        });
        assertThat(adminGet("/admin/keys/" + keyId)).contains("\"metadata\":{\"env=prod\":\"x\"}");
    }

    @Test
    void theKeysPageListsEveryKeyNotOnlyTheAdminApisFirstPage() throws Exception {
        // More keys than the admin API answers per page (50 by default), and than the console asks
        // for per request: the console must read them all to filter and sort them.
        int fleet = 250;
        // Unique per run: the shared context's database outlives a run in target/.
        String prefix = "fleet-" + UUID.randomUUID().toString().substring(0, 8) + "-";
        for (int i = 0; i < fleet; i++) {
            createKey("{\"name\":\"%s%03d\"}".formatted(prefix, i));
        }

        openKeysPage();
        type("keys-search", prefix);

        wait.until(d -> d.findElements(By.cssSelector("#keys-table tr[data-key-name^='" + prefix + "']"))
                        .size()
                == fleet);
        assertThat(browser.findElements(By.cssSelector("#keys-table tr[data-key-name='" + prefix + "000']")))
                .hasSize(1);
        assertThat(browser.findElements(By.cssSelector("#keys-table tr[data-key-name='" + prefix + "249']")))
                .hasSize(1);
        screenshot("11-keys-many");
    }

    /** Creates a key through the admin API: its answer, with the secret. */
    private String createKey(String json) throws IOException, InterruptedException {
        HttpResponse<String> created = admin.send(
                HttpRequest.newBuilder(URI.create(url("/admin/keys")))
                        .header("Authorization", "Bearer " + RunningGateway.ADMIN_KEY)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(json))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return created.body();
    }

    private String adminGet(String path) throws IOException, InterruptedException {
        HttpResponse<String> answer = admin.send(
                HttpRequest.newBuilder(URI.create(url(path)))
                        .header("Authorization", "Bearer " + RunningGateway.ADMIN_KEY)
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        return answer.body();
    }

    /**
     * Clicks the key's button, finding it again if the table re-rendered between finding and
     * clicking it (the wait ignores a stale element): the console redraws as data arrives.
     */
    private void clickKeyButton(String keyId, String action) {
        By button = By.cssSelector("tr[data-key-id='" + keyId + "'] button." + action);
        wait.until(d -> {
            WebElement found = ExpectedConditions.elementToBeClickable(button).apply(d);
            if (found == null) {
                return false;
            }
            found.click();
            return true;
        });
    }

    private void assertRefused(String secret) {
        OpenAIClient refused = client(secret);
        try {
            assertThatThrownBy(() -> refused.chat().completions().create(chat()))
                    .isInstanceOf(UnauthorizedException.class);
        } finally {
            refused.close();
        }
    }

    /** Signs in and opens the keys page. */
    private void openKeysPage() {
        browser.get(url("/console"));
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("login-form")));
        signIn(RunningGateway.ADMIN_KEY);
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("overview-body")));
        navigate("keys");
        wait.until(ExpectedConditions.presenceOfElementLocated(By.id("keys-table")));
    }

    private void signIn(String key) {
        WebElement field = browser.findElement(By.id("admin-key"));
        field.clear();
        field.sendKeys(key);
        browser.findElement(By.id("login-submit")).click();
    }

    private void navigate(String page) {
        browser.findElement(By.cssSelector("[data-nav='" + page + "']")).click();
        wait.until(d -> d.findElement(By.cssSelector("[data-nav='" + page + "']"))
                .getAttribute("class")
                .contains("active"));
    }

    /** Opens the key's edit dialog, makes the changes, saves, and waits for the dialog to close. */
    private void editKey(String keyId, Runnable changes) {
        clickKeyButton(keyId, "edit");
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("edit-dialog")));
        changes.run();
        browser.findElement(By.id("key-submit")).click();
        wait.until(ExpectedConditions.invisibilityOfElementLocated(By.id("edit-dialog")));
    }

    private void type(String id, String text) {
        WebElement field = browser.findElement(By.id(id));
        field.clear();
        field.sendKeys(text);
    }

    private Object js(String script) {
        return ((JavascriptExecutor) browser).executeScript(script);
    }

    private void screenshot(String name) throws IOException {
        // Let charts finish their first paint before the picture.
        wait.until(d -> "complete".equals(js("return document.readyState")));
        File file = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Files.copy(file.toPath(), SCREENSHOTS.resolve("console-" + name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }

    private String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    private OpenAIClient client(String key) {
        return OpenAIOkHttpClient.builder()
                .baseUrl(url("/v1"))
                .apiKey(key)
                .maxRetries(0)
                .timeout(Duration.ofSeconds(20))
                .build();
    }

    private static ChatCompletionCreateParams chat() {
        return ChatCompletionCreateParams.builder()
                .model("demo/chat")
                .addUserMessage("Hello from the console test")
                .build();
    }

    private static String firstExisting(String... candidates) {
        for (String candidate : candidates) {
            if (candidate != null && !candidate.isBlank() && Files.isExecutable(Path.of(candidate))) {
                return candidate;
            }
        }
        return null;
    }
}
