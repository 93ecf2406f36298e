#!/usr/bin/env python3
"""What idle streams keep on the gateway's heap: the class histogram (jcmd GC.class_histogram, live
objects) with the streams held minus the one before, per stream, as markdown."""
import re
import sys

ROW = re.compile(r"^\s*\d+:\s+(\d+)\s+(\d+)\s+(\S+)")


def load(path):
    out = {}
    for line in open(path):
        m = ROW.match(line)
        if m:
            out[m.group(3)] = (int(m.group(1)), int(m.group(2)))
    return out


before, after, streams = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3])
diff = []
for cls, (n, b) in after.items():
    n0, b0 = before.get(cls, (0, 0))
    if b - b0 > 0:
        diff.append((b - b0, n - n0, cls))
diff.sort(reverse=True)
total = sum(d[0] for d in diff)
print(f"## Heap kept per idle stream (class histogram, {streams} streams held minus before)\n")
print(f"Growth of live objects: {total / 1024 / streams:.1f} KiB per stream; the largest:\n")
print("| bytes / stream | instances / stream | class |")
print("| ---: | ---: | --- |")
for b, n, cls in diff[:15]:
    print(f"| {b / streams:.0f} | {n / streams:.1f} | `{cls}` |")
print()
