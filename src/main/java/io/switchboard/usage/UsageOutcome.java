package io.switchboard.usage;

import io.switchboard.exchange.ExchangeOutcome;
import java.util.Locale;

/** How a request ended, as the ledger and the metrics name it. */
public enum UsageOutcome {
    SUCCESS,
    /** A 200 stream that carried the upstream's in-band error: a failure, whatever the status said. */
    MIDSTREAM_ERROR,
    UPSTREAM_ERROR,
    CLIENT_CLOSED,
    UPSTREAM_UNREACHABLE,
    UPSTREAM_TIMEOUT,
    UPSTREAM_FAILED_MIDWAY,
    INTERRUPTED;

    private final String value = name().toLowerCase(Locale.ROOT);

    public String value() {
        return value;
    }

    public boolean failed() {
        return this != SUCCESS;
    }

    static UsageOutcome of(ExchangeOutcome.Kind kind, boolean inBandError) {
        return switch (kind) {
            case COMPLETED -> inBandError ? MIDSTREAM_ERROR : SUCCESS;
            case UPSTREAM_ERROR_STATUS -> UPSTREAM_ERROR;
            case CLIENT_CLOSED -> CLIENT_CLOSED;
            case UPSTREAM_UNREACHABLE -> UPSTREAM_UNREACHABLE;
            case UPSTREAM_TIMEOUT -> UPSTREAM_TIMEOUT;
            case UPSTREAM_FAILED_MIDWAY -> inBandError ? MIDSTREAM_ERROR : UPSTREAM_FAILED_MIDWAY;
            case INTERRUPTED -> INTERRUPTED;
        };
    }

    public static UsageOutcome fromValue(String value) {
        return valueOf(value.toUpperCase(Locale.ROOT));
    }
}
