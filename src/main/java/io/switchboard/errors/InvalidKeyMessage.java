package io.switchboard.errors;

/**
 * The single message for a missing, unknown, revoked or expired key: the same words for all four so
 * that an answer never tells which keys exist.
 */
public final class InvalidKeyMessage {

    public static final String TEXT =
            "Invalid API key. Send 'Authorization: Bearer sk-gw-...' with a key issued by this gateway.";

    private InvalidKeyMessage() {}
}
