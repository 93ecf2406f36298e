/** Usage capture from the relay, the usage ledger (queue, writer, spill file), generation settlement and the usage reports. */
@NullMarked
package io.switchboard.usage;

import org.jspecify.annotations.NullMarked;
