package io.switchboard.keys;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Validated changes to a key, as read from an admin request: applied to a blank key on creation and to
 * the stored key on an edit. Only the fields the request named change.
 *
 * @param fields the names of the changed fields, for the audit trail (never their values: an
 *     attribution or a label could hold something private)
 * @param metadata the new labels, replacing the old ones; null to keep them
 */
public record KeyEdit(
        List<String> fields,
        List<Consumer<ApiKey.Builder>> changes,
        @Nullable Map<String, String> metadata) {

    public KeyEdit {
        fields = List.copyOf(fields);
        changes = List.copyOf(changes);
        metadata = metadata == null ? null : Map.copyOf(metadata);
    }

    ApiKey applyTo(ApiKey key) {
        ApiKey.Builder builder = key.toBuilder();
        changes.forEach(change -> change.accept(builder));
        return builder.build();
    }
}
