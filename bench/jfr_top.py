#!/usr/bin/env python3
"""Summarises the CPU samples of a JFR recording (jdk.ExecutionSample) as markdown: where the
gateway's time goes by top frame, by method anywhere on the stack, by package and by thread."""
import collections
import json
import re
import subprocess
import sys

recording = sys.argv[1]
raw = subprocess.run(
    ["jfr", "print", "--json", "--stack-depth", "64", "--events", "jdk.ExecutionSample", recording],
    capture_output=True, text=True, check=True).stdout
events = json.loads(raw)["recording"]["events"]


def frame_name(frame):
    method = frame.get("method") or {}
    cls = (method.get("type") or {}).get("name", "?").replace("/", ".")
    return f"{cls}.{method.get('name', '?')}"


# Where a sample is spent, by the part of the pipeline on its stack (a sample may count for several).
COMPONENTS = (
    ("Spring Security filter chain", ("org.springframework.security.",)),
    ("Micrometer observation / metrics", ("io.micrometer.", "ServerHttpObservationFilter")),
    ("WebFlux dispatch (DispatcherHandler, router functions)", ("org.springframework.web.reactive.DispatcherHandler",)),
    ("Switchboard code (io.switchboard)", ("io.switchboard.",)),
    ("Jackson", ("tools.jackson.", "com.fasterxml.jackson.")),
    ("upstream connection pool (reactor-netty pool, reactor-pool)", ("reactor.netty.resources.", "reactor.pool.")),
    ("reactor-netty HTTP client", ("reactor.netty.http.client.",)),
    ("reactor-netty HTTP server", ("reactor.netty.http.server.",)),
    ("Netty HTTP codec", ("io.netty.handler.codec.http.",)),
    ("Netty socket I/O (epoll read/write/flush)", ("io.netty.channel.epoll.AbstractEpollStreamChannel.doWrite",
                                                    "io.netty.channel.epoll.AbstractEpollChannel.doReadBytes",
                                                    "io.netty.channel.unix.FileDescriptor")),
    ("timers (Reactor schedulers, ScheduledThreadPoolExecutor)", ("reactor.core.scheduler.",
                                                                  "java.util.concurrent.ScheduledThreadPoolExecutor")),
    ("logging (logback, slf4j)", ("ch.qos.logback.", "org.slf4j.")),
    ("class loading", ("java.lang.ClassLoader.loadClass",)),
)


def package_of(name):
    for prefix in ("io.switchboard", "io.netty", "reactor.netty", "reactor.core", "org.springframework.security",
                   "org.springframework.web", "org.springframework.http", "org.springframework",
                   "tools.jackson", "com.fasterxml", "io.micrometer", "java.", "jdk.", "sun."):
        if name.startswith(prefix):
            return prefix.rstrip(".")
    return name.split(".")[0]


components = collections.Counter()
self_top = collections.Counter()
inclusive = collections.Counter()
packages = collections.Counter()
threads = collections.Counter()
switchboard = collections.Counter()
total = 0
for event in events:
    values = event.get("values", {})
    frames = (values.get("stackTrace") or {}).get("frames") or []
    if not frames:
        continue
    total += 1
    names = [frame_name(f) for f in frames]
    self_top[names[0]] += 1
    packages[package_of(names[0])] += 1
    for label, markers in COMPONENTS:
        if any(m in n for n in names for m in markers):
            components[label] += 1
    for n in set(names):
        inclusive[n] += 1
        if n.startswith("io.switchboard"):
            switchboard[n] += 1
    thread = (values.get("sampledThread") or {}).get("javaName") or (values.get("sampledThread") or {}).get("osName") or "?"
    threads[re.sub(r"-?\d+$", "-N", thread)] += 1


def table(title, counter, n):
    lines = [f"**{title}**", "", "| samples | % | frame |", "| ---: | ---: | --- |"]
    for name, count in counter.most_common(n):
        lines.append(f"| {count} | {100.0 * count / total:.1f} | `{name}` |")
    return "\n".join(lines) + "\n"


print(f"## JFR CPU samples of the gateway ({total} samples of jdk.ExecutionSample)\n")
print(table("Samples by pipeline part (inclusive; a sample may count for several parts)", components, 20))
print(table("Top frames (self time)", self_top, 20))
print(table("Top frame by package (self time)", packages, 12))
print(table("io.switchboard methods anywhere on the stack (inclusive)", switchboard, 15))
print(table("Methods anywhere on the stack (inclusive)", inclusive, 40))
print(table("Threads", threads, 8))
