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
        // Record and let the call proceed; BlockingCallExtension fails the test (see there why not throw).
        builder.blockingMethodCallback(BlockingCallExtension::record);
        // Netty's DNS resolver draws query ids from SecureRandom, which refills from /dev/urandom:
        // a file read BlockHound cannot tell apart from disk I/O, but one that never blocks on Linux.
        builder.allowBlockingCallsInside("io.netty.resolver.dns.DnsQueryIdSpace$DnsQueryIdRange", "pushId");
        builder.allowBlockingCallsInside("io.netty.resolver.dns.DnsQueryIdSpace", "newBucket");
        // Logback's AsyncAppender in neverBlock mode only offers to its queue; the queue's lock is
        // held for the length of an array store.
        builder.allowBlockingCallsInside("ch.qos.logback.core.AsyncAppenderBase", "put");
        // Lettuce (the Redis client of shared rate limits) guards each connection's command queue
        // with a lock held for a few instructions; a contended acquire parks for that long. An
        // error thrown from inside it would leave the lock held and hang every later command.
        // Lettuce builds a new connection's command proxies once per interface behind a short lock;
        // the Redis limit store's probe opens connections on Reactor's timer thread and once waited
        // there while another connection was being built (seen in CI).
        builder.allowBlockingCallsInside("io.lettuce.core.internal.AbstractInvocationHandler$MethodTranslator", "of");
        builder.allowBlockingCallsInside("io.lettuce.core.protocol.SharedLock", "incrementWriters");
        builder.allowBlockingCallsInside("io.lettuce.core.protocol.SharedLock", "decrementWriters");
        builder.allowBlockingCallsInside("io.lettuce.core.protocol.SharedLock", "lockWritersExclusive");
        // The same lock taken exclusively when a connection drops (notifyChannelInactive), contended
        // by a command being written from another thread at that instant: seen in an outage test.
        builder.allowBlockingCallsInside("io.lettuce.core.protocol.SharedLock", "doExclusive");
        // A Redis client's shutdown (a test's gateway closing) stops its Netty executors from one of
        // their own threads; Netty's shutdownGracefully wakes each executor through a queue whose lock
        // another thread may hold for an instant. Shutdown only, never a request's path.
        builder.allowBlockingCallsInside("io.lettuce.core.resource.DefaultClientResources", "shutdown");
        // Netty 4.2's adaptive allocator takes a magazine's StampedLock when it adds magazines
        // under contention (a large body read fast): a lock held for a few instructions, a known
        // false positive (netty/netty#14564, line/armeria#6344).
        builder.allowBlockingCallsInside(
                "io.netty.buffer.AdaptivePoolingAllocator$MagazineGroup", "tryExpandMagazines");
    }
}
