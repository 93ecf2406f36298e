package io.switchboard;

import io.switchboard.proxy.SenderPrefetch;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** Starts the gateway. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class SwitchboardApplication {

    public static void main(String[] args) {
        // Before anything loads Reactor Netty's sender, which reads it once.
        SenderPrefetch.applyDefault();
        SpringApplication.run(SwitchboardApplication.class, args);
    }
}
