/** Every error leaves the gateway from here, in OpenAI's shape: {"error":{"message","type","param","code"}}. */
@NullMarked
package io.switchboard.errors;

import org.jspecify.annotations.NullMarked;
