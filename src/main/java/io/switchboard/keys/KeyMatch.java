package io.switchboard.keys;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * What a secret's hash found: the key, and when this particular secret stops working (the previous
 * secret of a key rotated with a grace period), or null while it is the current one.
 */
public record KeyMatch(ApiKey key, @Nullable Instant secretExpiresAt) {

    /** Whether a request presenting this secret at {@code now} is let in. */
    public boolean admits(Instant now) {
        return key.status(now) == ApiKey.Status.ACTIVE && (secretExpiresAt == null || now.isBefore(secretExpiresAt));
    }
}
