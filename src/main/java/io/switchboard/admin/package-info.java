/** The admin API: issuing, editing, rotating and revoking keys, the admin credential, and the audit trail. */
@NullMarked
package io.switchboard.admin;

import org.jspecify.annotations.NullMarked;
