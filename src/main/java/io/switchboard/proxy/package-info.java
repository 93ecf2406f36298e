/** The data plane: reads the bounded request, rewrites the model, relays to the upstream and streams the answer back as it arrives. */
@NullMarked
package io.switchboard.proxy;

import org.jspecify.annotations.NullMarked;
