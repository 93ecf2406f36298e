/** The built-in web console: serves its static files under {@code /console/}; its data comes from the admin API only. */
@NullMarked
package io.switchboard.console;

import org.jspecify.annotations.NullMarked;
