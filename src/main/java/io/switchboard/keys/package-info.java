/** Data-plane API keys: their format, hashing, storage, cache, and how a request is authenticated by one. */
@NullMarked
package io.switchboard.keys;

import org.jspecify.annotations.NullMarked;
