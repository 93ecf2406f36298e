#!/usr/bin/env python3
"""Summarises async-profiler's collapsed CPU stacks (recorded with `threads`) as markdown: the share
of each thread group, then, for the event loops, each sample charged to the nearest frame that is
not Reactor's operator plumbing or the JDK (so "reactor.netty.http.server" means operator chains
run from there), and the methods most often anywhere on the stack."""
import collections
import re
import sys

PLUMBING = re.compile(r"^(reactor/core|reactor/util|java/|jdk/|sun/|\[|Interpreter|vtable|itable|Stub)")
threads, owners, anywhere = collections.Counter(), collections.Counter(), collections.Counter()
total = loop_total = 0
for line in open(sys.argv[1]):
    stack, _, count = line.rstrip().rpartition(" ")
    n, frames = int(count), stack.split(";")
    group = re.sub(r"( ?[-#]?\d+)? tid=\d+\]$", "", frames[0].lstrip("["))
    threads[group] += n
    total += n
    if "epoll" not in group:
        continue
    loop_total += n
    owner = "(Reactor and JDK frames only)"
    for frame in reversed(frames[1:]):
        if "libnetty_transport_native" in frame:
            owner = "Netty's native transport (epoll, socket calls)"
            break
        if "/" in frame and not PLUMBING.match(frame):
            owner = re.sub(r"\$\$Lambda.*|\.[^./]+$", "", frame).replace("/", ".")
            break
    owners[owner] += n
    for method in {re.sub(r"_\[[a-z0-9]\]$", "", f) for f in frames[1:] if "/" in f}:
        anywhere[method.replace("/", ".")] += n

print(f"# CPU samples: {total}\n\n| share | threads |\n| ---: | --- |")
for name, n in threads.most_common(12):
    print(f"| {100 * n / total:.1f}% | {name} |")
print("\n## Event loops, by nearest owner\n\n| share of the loops | owner |\n| ---: | --- |")
for name, n in owners.most_common(30):
    print(f"| {100 * n / max(loop_total, 1):.1f}% | `{name}` |")
print("\n## Event loops, methods anywhere on the stack (Spring, Switchboard, clients)\n")
print("| share of the loops | method |\n| ---: | --- |")
shown = 0
for name, n in anywhere.most_common():
    if re.match(r"(org\.springframework|io\.switchboard|reactor\.netty\.http\.client|ch\.qos|tools\.jackson)", name):
        print(f"| {100 * n / max(loop_total, 1):.1f}% | `{name[:140]}` |")
        shown += 1
        if shown == 40:
            break
