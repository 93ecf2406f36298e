package io.switchboard.keys;

/** A change that a revoked key cannot take (a rotation), refused inside the change's transaction. */
public final class KeyRevokedException extends RuntimeException {

    public KeyRevokedException(String keyId) {
        super("key " + keyId + " is revoked", null, false, false);
    }
}
