/** The built-in offline demo upstream: an OpenAI-compatible server on a loopback port answering {@code demo/*} models. */
@NullMarked
package io.switchboard.demo;

import org.jspecify.annotations.NullMarked;
