package io.switchboard.keys;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * Turns a secret into what is stored and looked up: hex SHA-256, or HMAC-SHA256 with the server's
 * pepper when {@code gateway.keys.pepper} is set (so a stolen table cannot be checked offline without
 * the pepper too). No slow KDF: a key has 256 random bits, nothing to stretch, and this runs per request.
 */
public final class SecretHasher {

    private static final HexFormat HEX = HexFormat.of();

    private final @Nullable SecretKeySpec pepper;
    private final ThreadLocal<Mac> macs;
    private final ThreadLocal<MessageDigest> digests;

    public SecretHasher(@Nullable String pepper) {
        this.pepper = pepper == null || pepper.isEmpty()
                ? null
                : new SecretKeySpec(pepper.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
        this.macs = ThreadLocal.withInitial(this::newMac);
        this.digests = ThreadLocal.withInitial(SecretHasher::newDigest);
    }

    public String hash(String secret) {
        byte[] input = secret.getBytes(StandardCharsets.UTF_8);
        byte[] out = pepper == null ? digests.get().digest(input) : macs.get().doFinal(input);
        return HEX.formatHex(out);
    }

    public boolean peppered() {
        return pepper != null;
    }

    private Mac newMac() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            if (pepper != null) {
                mac.init(pepper);
            }
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    @Override
    public String toString() {
        return "SecretHasher[" + (pepper == null ? "sha-256" : "hmac-sha256, pepper *****") + "]";
    }
}
