package io.switchboard.exchange;

import java.util.function.Predicate;
import org.springframework.security.web.server.firewall.StrictServerWebExchangeFirewall;

/**
 * Spring Security's strict firewall's default header rules, as loops over the characters instead of
 * its regular expressions: names {@code [\p{IsAssigned}&&[^\p{IsControl}]]*}, values the same plus
 * the tab. The firewall checks every header of every request, and the two expressions were a third
 * of its cost (1.1% of the gateway's CPU per request in an async-profiler run, docs/benchmarks.md).
 * Written by hand because the firewall takes only a predicate; {@code HeaderCharacterRulesTest}
 * checks that it accepts exactly what the expressions accept. The proxy applies the value rule to
 * every header it forwards, which it copies without the firewall's view of them.
 */
public final class HeaderCharacterRules {

    /** Header names: every character assigned in Unicode and not a control character; null passes. */
    public static final Predicate<String> NAMES = name -> allowed(name, false);

    /** Header values: as names, and the tab too; null passes. */
    public static final Predicate<String> VALUES = value -> allowed(value, true);

    private HeaderCharacterRules() {}

    /** Spring's strict firewall with these rules in place of its expressions. */
    public static StrictServerWebExchangeFirewall firewall() {
        StrictServerWebExchangeFirewall firewall = new StrictServerWebExchangeFirewall();
        firewall.setAllowedHeaderNames(NAMES);
        firewall.setAllowedHeaderValues(VALUES);
        return firewall;
    }

    /** A header value as {@link #VALUES} judges it, for a value Netty holds as a {@code CharSequence}. */
    public static boolean allowedValue(CharSequence value) {
        return allowed(value, true);
    }

    private static boolean allowed(CharSequence text, boolean tab) {
        if (text == null) {
            return true;
        }
        for (int i = 0; i < text.length(); ) {
            char c = text.charAt(i);
            // Printable ASCII, nearly every character of a real header, passes without a lookup.
            if (c >= 0x20 && c < 0x7f) {
                i++;
                continue;
            }
            int codePoint = Character.codePointAt(text, i);
            boolean control = Character.getType(codePoint) == Character.CONTROL;
            if (!Character.isDefined(codePoint) || (control && !(tab && codePoint == '\t'))) {
                return false;
            }
            i += Character.charCount(codePoint);
        }
        return true;
    }
}
