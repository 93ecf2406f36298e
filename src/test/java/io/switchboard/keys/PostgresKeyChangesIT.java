package io.switchboard.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.switchboard.testing.GatewayInstance;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two replicas sharing a PostgreSQL database and no Redis: a key revoked on one is refused by the
 * other within a second (PostgreSQL's LISTEN/NOTIFY), although its cache would keep the key for
 * minutes, and still after the listening connections were cut.
 */
class PostgresKeyChangesIT {

    private static SharedDatabaseReplicas replicas;

    @BeforeAll
    static void start() {
        replicas = SharedDatabaseReplicas.start(Map.of());
    }

    @AfterAll
    static void stop() {
        if (replicas != null) {
            replicas.close();
        }
    }

    @Test
    void aKeyRevokedOnOneReplicaIsRefusedOnTheOtherWithinASecond() {
        replicas.assertRevokedKeyRefusedOnTheSecondWithinASecond("revoked-once", PostgresKeyChangesIT::awaitListening);
    }

    @Test
    void theListenerConnectsAgainAfterItsConnectionWasCut() {
        awaitListening();
        long beforeTheCut = replicas.database.count("SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::bigint");
        long cut = cutListeners();
        assertThat(cut).as("listening connections cut").isGreaterThanOrEqualTo(2);
        // Connected again: every listening connection the server has is one opened after the cut,
        // as many as were cut. (Waiting to see listening() turn false missed a dip shorter than a
        // poll; this does not depend on catching it, and awaitListening cannot pass on the old state.)
        await("as many listening connections as were cut, all opened after the cut")
                .atMost(Duration.ofSeconds(10))
                .until(() -> listeners("") == cut
                        && listeners(" AND backend_start > to_timestamp(" + beforeTheCut + " / 1000000.0)") == cut);

        replicas.assertRevokedKeyRefusedOnTheSecondWithinASecond(
                "revoked-after-a-cut", PostgresKeyChangesIT::awaitListening);
    }

    @Test
    void aChangeMissedWhileTheListenerWasDownIsReadOnceItListensAgain() {
        replicas.assertMissedRevocationReadOnceTheChannelIsBack(
                "missed-notice", PostgresKeyChangesIT::awaitListening, PostgresKeyChangesIT::cutListeners);
    }

    private static long cutListeners() {
        return replicas.database.count("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity"
                + " WHERE datname = current_database() AND query = 'LISTEN " + PostgresKeyChangeBus.CHANNEL + "'");
    }

    /** The server's connections listening on the channel, those matching {@code andWhere} among them. */
    private static long listeners(String andWhere) {
        return replicas.database.count("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()"
                + " AND query = 'LISTEN " + PostgresKeyChangeBus.CHANNEL + "'" + andWhere);
    }

    private static void awaitListening() {
        await().atMost(Duration.ofSeconds(20))
                .until(() ->
                        bus(replicas.first).listening() && bus(replicas.second).listening());
    }

    private static PostgresKeyChangeBus bus(GatewayInstance gateway) {
        return (PostgresKeyChangeBus) gateway.bean(KeyChangeBus.class);
    }
}
