package io.switchboard.storage;

import io.r2dbc.spi.ConnectionFactoryOptions;
import io.r2dbc.spi.Option;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.StringJoiner;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * One database seen two ways: the R2DBC options the gateway serves requests with, and the JDBC URL
 * Flyway migrates it through. Both come from {@code spring.r2dbc.url} (or the embedded default), so
 * an operator configures the database once.
 */
public record DatabaseLocation(
        ConnectionFactoryOptions r2dbc,
        String jdbcUrl,
        @Nullable String username,
        @Nullable String password) {

    /**
     * H2 closes a file database from its own JVM shutdown hook unless told not to; that hook runs
     * beside Spring's, so on SIGTERM the database could close while the usage ledger was still
     * draining its last batch (seen in the bench: "Connection validation failed" at shutdown, the rows
     * spilled to the file). The database now closes when the connection pool does, after the ledger.
     */
    private static final String KEEP_OPEN_UNTIL_CLOSED = "DB_CLOSE_ON_EXIT=FALSE";

    /**
     * H2 acknowledges a commit and writes it to its file up to 500 ms later (its default write delay),
     * so a process killed in between loses rows the usage ledger had seen committed, and the crash
     * journal had to keep every row for seconds after its commit. With no delay each commit is in the
     * file (the operating system's cache) when it returns, as with PostgreSQL: the journal forgets a
     * row as soon as it is written. The ledger commits once per batch, so this is one write per batch.
     */
    private static final String WRITE_ON_COMMIT = "WRITE_DELAY=0";

    /**
     * H2's page cache (16 MB by default, in the heap) keeps the pages the ledger's inserts write, so
     * under load every young collection copied and promoted tens of thousands of its entries (young
     * pauses of 20-23 ms against 7-9 ms with this setting and batches of 100: docs/benchmarks.md).
     * The gateway reads this database only off the request path (keys on a cache miss, the admin's
     * reports), from a file the operating system caches anyway. 1024 KB is H2's smallest: it rounds
     * the setting down to whole megabytes.
     */
    private static final String SMALL_PAGE_CACHE = "CACHE_SIZE=1024";

    /**
     * What every H2 file database the gateway opens gets, the embedded one and one named in
     * {@code spring.r2dbc.url}, through R2DBC and JDBC (migrations, the ledger's writer) alike, unless
     * that URL sets the same setting itself.
     */
    private static final List<String> H2_FILE_DEFAULTS =
            List.of(KEEP_OPEN_UNTIL_CLOSED, WRITE_ON_COMMIT, SMALL_PAGE_CACHE);

    /** r2dbc-h2 also takes this setting by name ({@code ?DB_CLOSE_ON_EXIT=...}), not only in "options". */
    private static final Option<String> CLOSE_ON_EXIT = Option.valueOf("DB_CLOSE_ON_EXIT");

    /** r2dbc-h2 passes only the settings it knows by name; the rest go through "options". */
    private static final Option<String> H2_OPTIONS = Option.valueOf("options");

    static final String EMBEDDED_NAME = "switchboard";

    /**
     * H2's file system that reopens the file and retries when a thread was interrupted while it wrote.
     * Plain NIO closes a file channel for good when its thread is interrupted mid-write, and H2 then
     * closes the whole database until a restart ("The database has been closed"). Reactor interrupts
     * a {@code boundedElastic} worker when the task on it is cancelled (a client that left, a timeout),
     * which is where the database work runs; seen in {@code RedisFaultsIT} as every key creation
     * failing with 503 after a {@code ClosedByInterruptException}.
     */
    static final String INTERRUPT_SAFE = "retry:";

    /** A database path that already names an H2 file system ({@code nio:}, {@code async:}, ...). */
    private static final Pattern FILE_SYSTEM_PREFIX = Pattern.compile("^[A-Za-z]{2,}:");

    /**
     * @param r2dbcUrl {@code spring.r2dbc.url}, or null/blank for the embedded H2 file under {@code storagePath}
     */
    public static DatabaseLocation resolve(
            @Nullable String r2dbcUrl, @Nullable String username, @Nullable String password, Path storagePath) {
        if (r2dbcUrl == null || r2dbcUrl.isBlank()) {
            return embedded(storagePath);
        }
        ConnectionFactoryOptions parsed = ConnectionFactoryOptions.parse(r2dbcUrl);
        ConnectionFactoryOptions.Builder options = parsed.mutate();
        String user = hasText(username) ? username : stringOption(parsed, ConnectionFactoryOptions.USER);
        String pass = hasText(password) ? password : stringOption(parsed, ConnectionFactoryOptions.PASSWORD);
        if (hasText(user)) {
            options.option(ConnectionFactoryOptions.USER, user);
        }
        if (hasText(pass)) {
            options.option(ConnectionFactoryOptions.PASSWORD, pass);
        }
        if (isH2File(parsed)) {
            options.option(
                    ConnectionFactoryOptions.DATABASE,
                    interruptSafe(stringOption(parsed, ConnectionFactoryOptions.DATABASE)));
            options.option(
                    H2_OPTIONS, withH2FileDefaults(stringOption(parsed, H2_OPTIONS), settingsSetBesideOptions(parsed)));
        }
        ConnectionFactoryOptions built = options.build();
        return new DatabaseLocation(built, jdbcUrlFor(built), user, pass);
    }

    private static DatabaseLocation embedded(Path storagePath) {
        String file =
                storagePath.toAbsolutePath().normalize().resolve(EMBEDDED_NAME).toString();
        ConnectionFactoryOptions options = ConnectionFactoryOptions.builder()
                .option(ConnectionFactoryOptions.DRIVER, "h2")
                .option(ConnectionFactoryOptions.PROTOCOL, "file")
                .option(ConnectionFactoryOptions.DATABASE, interruptSafe(file))
                .option(ConnectionFactoryOptions.USER, "sa")
                .option(H2_OPTIONS, withH2FileDefaults(null, ""))
                .build();
        return new DatabaseLocation(options, jdbcUrlFor(options), "sa", null);
    }

    /**
     * The database's path on the {@link #INTERRUPT_SAFE} file system, for every H2 file database the
     * gateway opens (its own and one named in {@code spring.r2dbc.url}), unless the path already
     * names a file system of the operator's choosing.
     */
    static String interruptSafe(@Nullable String database) {
        String path = database == null ? "" : database;
        return FILE_SYSTEM_PREFIX.matcher(path).find() ? path : INTERRUPT_SAFE + path;
    }

    /**
     * {@code given} (H2 settings separated by ';') followed by each default that neither it nor the
     * database name ({@code inName}) sets: H2 refuses a setting named twice ("Duplicate property").
     */
    private static String withH2FileDefaults(@Nullable String given, String inName) {
        StringJoiner settings = new StringJoiner(";");
        String upper = ";" + inName.toUpperCase(Locale.ROOT).replace(" ", "");
        if (hasText(given)) {
            settings.add(given);
            upper += ";" + given.toUpperCase(Locale.ROOT).replace(" ", "");
        }
        for (String setting : H2_FILE_DEFAULTS) {
            String name = setting.substring(0, setting.indexOf('=') + 1);
            if (!upper.contains(";" + name)) {
                settings.add(setting);
            }
        }
        return settings.toString();
    }

    /**
     * The settings H2 also accepts after the database's path, as in
     * {@code r2dbc:h2:file:////srv/own;WRITE_DELAY=100}: everything after the first ';', or "".
     */
    private static String settingsInName(@Nullable String database) {
        int start = database == null ? -1 : database.indexOf(';');
        return start < 0 ? "" : database.substring(start + 1);
    }

    /** The H2 settings a URL sets outside its "options": after its path, and the one r2dbc-h2 takes by name. */
    private static String settingsSetBesideOptions(ConnectionFactoryOptions parsed) {
        String inName = settingsInName(stringOption(parsed, ConnectionFactoryOptions.DATABASE));
        String closeOnExit = stringOption(parsed, CLOSE_ON_EXIT);
        return closeOnExit == null ? inName : inName + ";" + CLOSE_ON_EXIT.name() + "=" + closeOnExit;
    }

    private static boolean isH2File(ConnectionFactoryOptions options) {
        return "h2".equals(stringOption(options, ConnectionFactoryOptions.DRIVER))
                && "file".equals(stringOption(options, ConnectionFactoryOptions.PROTOCOL));
    }

    /** The JDBC URL of the same database; only H2 (file or memory) and PostgreSQL are supported. */
    static String jdbcUrlFor(ConnectionFactoryOptions options) {
        String driver = stringOption(options, ConnectionFactoryOptions.DRIVER);
        String protocol = stringOption(options, ConnectionFactoryOptions.PROTOCOL);
        if ("pool".equals(driver) && protocol != null) {
            // r2dbc:pool:postgresql://...: the real driver is the protocol
            driver = protocol;
            protocol = null;
        }
        String database = stringOption(options, ConnectionFactoryOptions.DATABASE);
        if ("h2".equals(driver)) {
            if ("mem".equals(protocol)) {
                return "jdbc:h2:mem:" + database + ";DB_CLOSE_DELAY=-1";
            }
            if ("file".equals(protocol)) {
                // Flyway opens the database with the same settings the gateway serves requests with.
                String settings = stringOption(options, H2_OPTIONS);
                String closeOnExit = stringOption(options, CLOSE_ON_EXIT);
                return "jdbc:h2:file:" + database
                        + (closeOnExit == null ? "" : ";" + CLOSE_ON_EXIT.name() + "=" + closeOnExit)
                        + (hasText(settings) ? ";" + settings : "");
            }
        }
        if ("postgresql".equals(driver) || "postgres".equals(driver)) {
            String host = stringOption(options, ConnectionFactoryOptions.HOST);
            Object port = options.getValue(ConnectionFactoryOptions.PORT);
            StringBuilder url = new StringBuilder("jdbc:postgresql://").append(host == null ? "localhost" : host);
            if (port != null) {
                url.append(':').append(port);
            }
            url.append('/').append(database == null ? "" : database);
            StringJoiner parameters = new StringJoiner("&", "?", "").setEmptyValue("");
            addParameter(parameters, "currentSchema", stringOption(options, Option.valueOf("schema")));
            // The migrations connect as securely as the gateway does: r2dbc-postgresql's TLS options
            // under pgjdbc's names ("ssl" alone means verify-full in r2dbc-postgresql). Not a key's
            // passphrase: this URL is logged (a key with one needs spring.flyway.url).
            String sslMode = stringOption(options, Option.valueOf("sslMode"));
            if (!hasText(sslMode) && "true".equalsIgnoreCase(stringOption(options, ConnectionFactoryOptions.SSL))) {
                sslMode = "verify-full";
            }
            addParameter(
                    parameters,
                    "sslmode",
                    sslMode == null ? null : sslMode.toLowerCase(Locale.ROOT).replace('_', '-'));
            addParameter(parameters, "sslrootcert", stringOption(options, Option.valueOf("sslRootCert")));
            addParameter(parameters, "sslcert", stringOption(options, Option.valueOf("sslCert")));
            addParameter(parameters, "sslkey", stringOption(options, Option.valueOf("sslKey")));
            return url.append(parameters).toString();
        }
        throw new IllegalArgumentException("Unsupported database in spring.r2dbc.url: driver '"
                + String.valueOf(driver).toLowerCase(Locale.ROOT)
                + "' (use H2 or PostgreSQL, or set spring.flyway.url)");
    }

    private static void addParameter(StringJoiner parameters, String name, @Nullable String value) {
        if (hasText(value)) {
            parameters.add(name + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8));
        }
    }

    private static @Nullable String stringOption(ConnectionFactoryOptions options, Option<?> option) {
        Object value = options.getValue(option);
        return value == null ? null : value.toString();
    }

    private static boolean hasText(@Nullable String value) {
        return value != null && !value.isBlank();
    }

    /** Whether the database runs inside this process (H2, a file or in memory) rather than on a server. */
    public boolean inProcess() {
        return jdbcUrl.startsWith("jdbc:h2:");
    }

    /** Never prints the password. */
    @Override
    public String toString() {
        return "DatabaseLocation[" + jdbcUrl + ", user=" + username + "]";
    }
}
