package io.switchboard.proxy;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Streaming, {@code gateway.streaming.*}.
 *
 * @param heartbeat while an upstream stream is silent this long, the gateway sends an SSE comment so a
 *     client that has gone is noticed and idle-killing middleboxes keep the connection; 0 turns it off
 * @param maxEventSize an event larger than this is relayed as it arrives instead of being gathered
 *     whole, so one huge event cannot grow memory (observers do not see it)
 * @param sendTimeout a client that accepts no byte of an answer (a stream or any other) for this long
 *     is disconnected, as by nginx's {@code send_timeout}, so that one that stopped reading cannot hold
 *     its concurrency slot, reservations and upstream connection for ever; 0 turns it off
 */
@ConfigurationProperties("gateway.streaming")
public record StreamingProperties(
        @DefaultValue("15s") Duration heartbeat,
        @DefaultValue("1MB") org.springframework.util.unit.DataSize maxEventSize,
        @DefaultValue("60s") Duration sendTimeout) {}
