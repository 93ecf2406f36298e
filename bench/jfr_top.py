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
    cls = (method.get("type") or {}).get("name", "?")
    return f"{cls}.{method.get('name', '?')}"


def package_of(name):
    for prefix in ("io.switchboard", "io.netty", "reactor.netty", "reactor.core", "org.springframework.security",
                   "org.springframework.web", "org.springframework.http", "org.springframework",
                   "tools.jackson", "com.fasterxml", "io.micrometer", "java.", "jdk.", "sun."):
        if name.startswith(prefix):
            return prefix.rstrip(".")
    return name.split(".")[0]


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
print(table("Top frames (self time)", self_top, 20))
print(table("Top frame by package (self time)", packages, 12))
print(table("io.switchboard methods anywhere on the stack (inclusive)", switchboard, 15))
print(table("Methods anywhere on the stack (inclusive)", inclusive, 25))
print(table("Threads", threads, 8))
