package io.switchboard.admin;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The admin secret, kept only as its SHA-256 digest and compared in constant time. Its id (a short
 * digest prefix) names it in the audit trail without revealing it.
 */
public final class AdminCredential {

    private final byte[] digest;
    private final String id;

    public AdminCredential(String secret) {
        this.digest = sha256(secret.strip());
        this.id = "admin-" + HexFormat.of().formatHex(digest, 0, 4);
    }

    public boolean matches(String presented) {
        return MessageDigest.isEqual(digest, sha256(presented));
    }

    public String id() {
        return id;
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return "AdminCredential[" + id + "]";
    }
}
