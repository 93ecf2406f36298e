package io.switchboard.testing;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * The blocking calls BlockHound may let pass, each with its reason. Loaded through the
 * {@code BlockHoundIntegration} service file when blockhound-junit-platform installs BlockHound.
 */
public final class GatewayBlockHoundIntegration implements BlockHoundIntegration {

    @Override
    public void applyTo(BlockHound.Builder builder) {
        // Netty's DNS resolver draws query ids from SecureRandom, which refills from /dev/urandom:
        // a file read BlockHound cannot tell apart from disk I/O, but one that never blocks on Linux.
        builder.allowBlockingCallsInside("io.netty.resolver.dns.DnsQueryIdSpace$DnsQueryIdRange", "pushId");
        builder.allowBlockingCallsInside("io.netty.resolver.dns.DnsQueryIdSpace", "newBucket");
        // Logback's AsyncAppender in neverBlock mode only offers to its queue; the queue's lock is
        // held for the length of an array store.
        builder.allowBlockingCallsInside("ch.qos.logback.core.AsyncAppenderBase", "put");
    }
}
