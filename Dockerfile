# syntax=docker/dockerfile:1
#
# Switchboard image: built with the Maven wrapper, run on a slim JRE as a non-root user.
#   docker build -t switchboard .
#   docker run -p 8080:8080 -v switchboard-data:/app/data -e GATEWAY_ADMIN_KEY=... -e OPENROUTER_API_KEY=... switchboard
#   (the named volume keeps the embedded database, crash journal and spill file across containers)
# Secrets are read from the environment at run time only; none is baked into a layer.

FROM eclipse-temurin:21-jdk AS build
WORKDIR /src
# Dependencies first: this layer is reused until pom.xml or the wrapper changes.
COPY mvnw pom.xml ./
COPY .mvn .mvn
RUN --mount=type=cache,target=/root/.m2 ./mvnw -B -q dependency:go-offline
COPY src src
RUN --mount=type=cache,target=/root/.m2 ./mvnw -B -q -DskipTests package \
 && cp target/switchboard-*.jar /tmp/application.jar
# Spring Boot's layered jar: libraries, loader, snapshots and our classes in separate directories,
# so a code change rebuilds only the last, small layer of the runtime image.
WORKDIR /layers
RUN java -Djarmode=tools -jar /tmp/application.jar extract --layers --launcher --destination /layers

FROM eclipse-temurin:25-jre AS runtime
# curl answers the HEALTHCHECK; nothing else is added to the JRE image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 switchboard \
 && useradd --system --uid 10001 --gid switchboard --home-dir /app --shell /usr/sbin/nologin switchboard \
 && mkdir -p /app/data \
 && chown -R switchboard:switchboard /app
WORKDIR /app
COPY --from=build /layers/dependencies/ ./
COPY --from=build /layers/spring-boot-loader/ ./
COPY --from=build /layers/snapshot-dependencies/ ./
COPY --from=build /layers/application/ ./
USER 10001:10001

# The embedded database lives here when no PostgreSQL is configured: mount a volume to keep it.
VOLUME ["/app/data"]
EXPOSE 8080

# JVM flags (docs/operations.md says what each bought): the collector the benchmark figures were
# measured with (named, because in a 1-CPU container the JVM would pick SerialGC by itself, and ZGC
# measured worse); Java 25's compact object headers (8 instead of 12 bytes per object: about 10% less
# heap per open stream and 6-14% less CPU per request in the benchmark); string deduplication (open
# streams share many header values: about 1 KiB less per idle stream, no CPU cost seen); Unsafe
# allowed, because on Java 25 Netty stops using it unless told it may (the figures were measured
# with it), and native access for Netty's epoll transport, both of which Java 25 would otherwise warn
# about; the heap sized from the container's memory limit (an idle stream keeps about 19 KiB of it);
# die (and get restarted) rather than limp on after an OutOfMemoryError; no Netty leak sampling (it
# records a stack trace for one buffer in 128: 3-4% of the CPU per request; the tests run Netty's
# paranoid level and fail on any leak). Override with -e JAVA_OPTS=...
ENV JAVA_OPTS="-XX:+UseParallelGC -XX:+UseCompactObjectHeaders -XX:+UseStringDeduplication --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED -XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError -Dio.netty.leakDetection.level=disabled" \
    SERVER_PORT=8080

HEALTHCHECK --interval=10s --timeout=3s --start-period=40s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${SERVER_PORT}/actuator/health" || exit 1

# exec: the JVM is PID 1 and receives SIGTERM, so graceful shutdown lets open streams finish.
ENTRYPOINT ["sh", "-c", "exec java $JAVA_OPTS org.springframework.boot.loader.launch.JarLauncher \"$@\"", "switchboard"]
