package io.switchboard.errors;

import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Hooks;
import reactor.netty.channel.AbortedException;

/**
 * What happens to an error that arrives after its request has ended (Reactor's "dropped" errors).
 * A connection closing under a request that is already gone is the usual case: a client that
 * hangs up while the gateway is still connecting upstream makes the gateway close that connect,
 * and the connect then fails for nobody. Reactor's default logs each such error at ERROR with its
 * whole stack trace; here a closed or reset connection is logged at DEBUG, and anything else still
 * at ERROR, as before.
 */
@Component
public class DroppedErrors {

    private static final Logger log = LoggerFactory.getLogger(DroppedErrors.class);

    /** Reactor keeps one global hook: the same one for every application context in the JVM. */
    private static final Consumer<Throwable> HOOK = DroppedErrors::log;

    public DroppedErrors() {
        Hooks.onErrorDropped(HOOK);
    }

    static void log(Throwable error) {
        if (closedConnection(error)) {
            log.debug("A connection closed after its request had ended: {}", error.toString());
        } else {
            log.error("An error arrived after its request had ended (Reactor's onErrorDropped)", error);
        }
    }

    /** Also Reactor Netty's "connection has been closed" on a send to a connection already gone. */
    private static boolean closedConnection(Throwable error) {
        return ClosedConnection.is(error) || error instanceof AbortedException;
    }
}
