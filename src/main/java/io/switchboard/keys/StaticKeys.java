package io.switchboard.keys;

import io.switchboard.exchange.Attribution;
import io.switchboard.exchange.CallerKey;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Keys declared in configuration ({@code gateway.keys.static[...]}), held in memory by hash. They
 * never touch the database, so they work before it exists and while it is down; they are changed by
 * changing the configuration and restarting.
 */
public final class StaticKeys {

    private static final String ID_PREFIX = "static:";
    private static final int MAX_NAME = 100 - ID_PREFIX.length();

    private final Map<String, CallerKey> byHash;

    public StaticKeys(List<KeysProperties.StaticKey> declared, SecretHasher hasher) {
        Map<String, CallerKey> keys = new HashMap<>();
        for (int i = 0; i < declared.size(); i++) {
            KeysProperties.StaticKey key = declared.get(i);
            String where = "gateway.keys.static[" + i + "]";
            if (key.name() == null || key.name().isBlank()) {
                throw new IllegalStateException(where + ".name is required");
            }
            if (key.name().length() > MAX_NAME) {
                // The id ("static:" + name) is stored with each usage row, in a column of 100.
                throw new IllegalStateException(where + ".name is longer than " + MAX_NAME + " characters");
            }
            if (key.name().chars().anyMatch(Character::isISOControl)) {
                // The ledger would store it altered (no NUL in PostgreSQL text): the key's rows would not match it.
                throw new IllegalStateException(where + ".name holds a control character");
            }
            String hash = hashOf(key, hasher, where);
            CallerKey caller = new CallerKey(
                    ID_PREFIX + key.name(),
                    key.name(),
                    List.copyOf(key.models()),
                    key.rpm(),
                    key.tpm(),
                    key.maxConcurrency(),
                    key.budgetUsd(),
                    new Attribution(
                            Attribution.configured(where + ".referer", key.referer()),
                            Attribution.configured(where + ".title", key.title()),
                            Attribution.configured(where + ".categories", key.categories())));
            if (keys.put(hash, caller) != null) {
                throw new IllegalStateException(where + " repeats the secret of another static key");
            }
        }
        this.byHash = Map.copyOf(keys);
    }

    private static String hashOf(KeysProperties.StaticKey key, SecretHasher hasher, String where) {
        boolean hasSecret = key.secret() != null && !key.secret().isBlank();
        boolean hasHash = key.hash() != null && !key.hash().isBlank();
        if (hasSecret == hasHash) {
            throw new IllegalStateException(where + ": set exactly one of 'secret' and 'hash'");
        }
        if (hasSecret) {
            String secret = key.secret().strip();
            if (!ApiKeyFormat.isWellFormed(secret)) {
                // The secret itself is not printed: it may be a real credential with a typo.
                throw new IllegalStateException(where + ".secret is not a well-formed key (" + ApiKeyFormat.REGEX
                        + " with a valid checksum); mint one with POST /admin/keys or see docs/keys.md");
            }
            return hasher.hash(secret);
        }
        String hash = key.hash().strip().toLowerCase(Locale.ROOT);
        if (!hash.matches("[0-9a-f]{64}")) {
            throw new IllegalStateException(where + ".hash must be 64 hex characters (SHA-256 of the secret)");
        }
        return hash;
    }

    public @Nullable CallerKey find(String secretHash) {
        return byHash.get(secretHash);
    }

    public static boolean isStatic(String keyId) {
        return keyId.startsWith(ID_PREFIX);
    }

    public int size() {
        return byHash.size();
    }
}
