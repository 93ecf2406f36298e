package io.switchboard.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ConnectException;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/** Which start-up failures are waited out (the gateway starts and retries) and which stop it. */
class SchemaMigrationsTest {

    @Test
    void aDatabaseThatCannotTakeAConnectionYetIsWaitedFor() {
        assertThat(SchemaMigrations.unreachable(new RuntimeException(new ConnectException("refused"))))
                .isTrue();
        assertThat(SchemaMigrations.unreachable(new SQLException("connection failure", "08006")))
                .isTrue();
        // PostgreSQL accepts the socket, then refuses: starting up, shutting down, or full.
        assertThat(SchemaMigrations.unreachable(
                        new RuntimeException(new SQLException("the database system is starting up", "57P03"))))
                .isTrue();
        assertThat(SchemaMigrations.unreachable(new SQLException("terminating connection", "57P01")))
                .isTrue();
        assertThat(SchemaMigrations.unreachable(new SQLException("too many clients already", "53300")))
                .isTrue();
    }

    @Test
    void aMigrationThatFailsForAnyOtherReasonStopsTheStart() {
        assertThat(SchemaMigrations.unreachable(new SQLException("syntax error", "42601")))
                .isFalse();
        assertThat(SchemaMigrations.unreachable(new SQLException("password authentication failed", "28P01")))
                .isFalse();
        assertThat(SchemaMigrations.unreachable(new IllegalStateException("checksum mismatch")))
                .isFalse();
    }
}
