package io.switchboard.keys;

/** A key had to be read from the database and the database did not answer: the caller gets 503, never 401. */
public final class KeyStoreUnavailableException extends RuntimeException {

    KeyStoreUnavailableException(Throwable cause) {
        super("key store unavailable", cause, false, false);
    }
}
