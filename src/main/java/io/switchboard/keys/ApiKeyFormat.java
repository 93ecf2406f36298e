package io.switchboard.keys;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.regex.Pattern;
import java.util.zip.CRC32;

/**
 * The shape of a data-plane key: {@code sk-gw-}, 43 base62 characters of 32 random bytes, then a
 * 6-character base62 CRC32 of those 43 (as GitHub's tokens carry one). The fixed prefix lets secret
 * scanners recognise a leaked key; the checksum lets the gateway refuse a mistyped or invented key
 * without any lookup.
 */
public final class ApiKeyFormat {

    public static final String PREFIX = "sk-gw-";

    /** The published pattern; see docs/keys.md. */
    public static final String REGEX = "sk-gw-[0-9A-Za-z]{49}";

    public static final Pattern PATTERN = Pattern.compile(REGEX);

    static final int RANDOM_BYTES = 32;
    static final int BODY_LENGTH = 43; // ceil(256 / log2(62))
    static final int CHECKSUM_LENGTH = 6; // 62^6 > 2^32
    static final int LENGTH = PREFIX.length() + BODY_LENGTH + CHECKSUM_LENGTH;

    /** Characters of the secret shown in lists and logs: {@code sk-gw-} and 4 of the random part. */
    static final int DISPLAY_LENGTH = PREFIX.length() + 4;

    private static final char[] ALPHABET =
            "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();
    private static final BigInteger BASE = BigInteger.valueOf(ALPHABET.length);

    private ApiKeyFormat() {}

    /** A new secret. */
    public static String generate(SecureRandom random) {
        byte[] bytes = new byte[RANDOM_BYTES];
        random.nextBytes(bytes);
        String body = base62(new BigInteger(1, bytes), BODY_LENGTH);
        return PREFIX + body + checksum(body);
    }

    /** True when {@code candidate} has the key's shape and its checksum matches: no lookup is worth making otherwise. */
    public static boolean isWellFormed(String candidate) {
        if (candidate.length() != LENGTH || !candidate.startsWith(PREFIX)) {
            return false;
        }
        for (int i = PREFIX.length(); i < LENGTH; i++) {
            if (!isBase62(candidate.charAt(i))) {
                return false;
            }
        }
        String body = candidate.substring(PREFIX.length(), PREFIX.length() + BODY_LENGTH);
        byte[] expected = checksum(body).getBytes(StandardCharsets.US_ASCII);
        byte[] actual = candidate.substring(LENGTH - CHECKSUM_LENGTH).getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(expected, actual);
    }

    /** {@code sk-gw-abcd}: enough to tell keys apart in a list, far too little to guess the rest. */
    public static String displayPrefix(String secret) {
        return secret.substring(0, DISPLAY_LENGTH);
    }

    static String checksum(String body) {
        CRC32 crc = new CRC32();
        crc.update(body.getBytes(StandardCharsets.US_ASCII));
        return base62(BigInteger.valueOf(crc.getValue()), CHECKSUM_LENGTH);
    }

    /** Random base62 text, for ids. */
    static String randomBase62(SecureRandom random, int bytes, int length) {
        byte[] raw = new byte[bytes];
        random.nextBytes(raw);
        return base62(new BigInteger(1, raw), length);
    }

    private static String base62(BigInteger value, int width) {
        char[] out = new char[width];
        BigInteger rest = value;
        for (int i = width - 1; i >= 0; i--) {
            BigInteger[] qr = rest.divideAndRemainder(BASE);
            out[i] = ALPHABET[qr[1].intValue()];
            rest = qr[0];
        }
        return new String(out);
    }

    private static boolean isBase62(char c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    }
}
