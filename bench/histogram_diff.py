#!/usr/bin/env python3
"""What idle streams keep on the gateway's heap: the class histogram (jcmd GC.class_histogram, live
objects) with the streams held minus the one before, per stream, as markdown.

    histogram_diff.py BEFORE AFTER STREAMS [--minus BEFORE2 AFTER2]

With --minus, the per-stream growth of a second gateway (the same streams held through it) is
subtracted class by class: what the first gateway keeps per stream beyond the second."""
import re
import sys

ROW = re.compile(r"^\s*\d+:\s+(\d+)\s+(\d+)\s+(\S+)")


# A lambda's class is numbered in the order the JVM made it (Foo$$Lambda$1907/0x...), which differs
# between two JVMs: lambdas are counted per enclosing class so that two gateways can be compared.
LAMBDA = re.compile(r"\$\$Lambda[$/].*$")


def load(path):
    out = {}
    for line in open(path):
        m = ROW.match(line)
        if m:
            cls = LAMBDA.sub("$$Lambda", m.group(3))
            n, b = out.get(cls, (0, 0))
            out[cls] = (n + int(m.group(1)), b + int(m.group(2)))
    return out


def growth(before_path, after_path):
    """Bytes and instances added per class between the two histograms."""
    before, after = load(before_path), load(after_path)
    out = {}
    for cls in set(before) | set(after):
        n, b = after.get(cls, (0, 0))
        n0, b0 = before.get(cls, (0, 0))
        out[cls] = (b - b0, n - n0)
    return out


def table(rows, streams):
    print("| bytes / stream | instances / stream | class |")
    print("| ---: | ---: | --- |")
    for b, n, cls in rows:
        print(f"| {b / streams:.0f} | {n / streams:.1f} | `{cls}` |")
    print()


args = sys.argv[1:]
streams = int(args[2])
first = growth(args[0], args[1])
if "--minus" not in args:
    diff = sorted(((b, n, cls) for cls, (b, n) in first.items() if b > 0), reverse=True)
    total = sum(d[0] for d in diff)
    print(f"## Heap kept per idle stream (class histogram, {streams} streams held minus before)\n")
    print(f"Growth of live objects: {total / 1024 / streams:.1f} KiB per stream; the largest:\n")
    table(diff[:15], streams)
else:
    i = args.index("--minus")
    second = growth(args[i + 1], args[i + 2])
    # Totals as in the single table: classes that grew. Objects that are not per stream (a JIT's or
    # the database's arrays made between the two histograms) still add noise of a few hundred bytes
    # per stream; whole instances per stream are what the streams keep.
    on = sum(b for b, _ in first.values() if b > 0)
    off = sum(b for b, _ in second.values() if b > 0)
    diff = []
    for cls in set(first) | set(second):
        b1, n1 = first.get(cls, (0, 0))
        b2, n2 = second.get(cls, (0, 0))
        if b1 != b2:
            diff.append((b1 - b2, n1 - n2, cls))
    print(f"## Heap the limit, usage and metrics filters keep per idle stream ({streams} streams each)\n")
    print(f"Growth of live objects per stream: {on / 1024 / streams:.2f} KiB with the filters on, "
          f"{off / 1024 / streams:.2f} KiB with them off: **{(on - off) / streams:+.0f} bytes per stream**. "
          "The classes that differ most (positive: more with the filters on):\n")
    diff.sort(key=lambda d: abs(d[0]), reverse=True)
    table(diff[:20], streams)
