#!/usr/bin/env python3
"""When the slow requests of a bench/profile.sh run came, from the gateway's own access log.

    bench/slow_requests.py <run directory> [--seconds S] [--threshold-ms T]

Reads the access lines of the one-connection rounds (from the time bench/profile.sh wrote to
c1-start in the run directory; with --seconds, or for a run without that file, of the last S
seconds) and, for the requests the gateway itself took T ms or more over (default 3):
how many, how far apart they came (a fixed spacing names a periodic cause, such as the usage
ledger's batch period), and how many fell within 50 ms of a young collection in gc.log, against
the number chance alone would put there.
"""
import argparse
import bisect
import datetime
import re
import statistics
from pathlib import Path

ACCESS = re.compile(r" (?:POST|GET) /\S+ (\d{3}) (\d+)ms")
STARTED = re.compile(r"process running for ([\d.]+)")
PAUSE = re.compile(r"^\[([\d.]+)s\].*Pause Young")


def stamp(line):
    return datetime.datetime.fromisoformat(line[:23])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("run")
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--threshold-ms", type=int, default=3)
    args = parser.parse_args()
    run = Path(args.run)
    lines = (run / "gateway.log").read_text(errors="replace").splitlines()
    access = [(stamp(l), int(m.group(2))) for l in lines if (m := ACCESS.search(l)) and "/actuator" not in l]
    if not access:
        raise SystemExit("no access lines in " + str(run / "gateway.log"))
    end = access[-1][0]
    marker = run / "c1-start"
    if args.seconds is None and marker.exists():
        start = datetime.datetime.fromisoformat(marker.read_text().strip())
        args.seconds = (end - start).total_seconds()
        window = [(t, ms) for t, ms in access if t >= start]
    else:
        if args.seconds is None:
            raise SystemExit("no c1-start in " + str(run) + ": give --seconds (the one-connection rounds' length)")
        window = [(t, ms) for t, ms in access if (end - t).total_seconds() < args.seconds]
    slow = [t for t, ms in window if ms >= args.threshold_ms]
    print(f"{len(window)} requests in the last {args.seconds:.0f} s; {len(slow)} took >= {args.threshold_ms} ms"
          f" ({100 * len(slow) / max(len(window), 1):.2f}%)")
    if len(slow) < 2:
        return
    gaps = [(b - a).total_seconds() * 1000 for a, b in zip(slow, slow[1:])]
    firsts = [slow[0]] + [b for a, b, g in zip(slow, slow[1:], gaps) if g >= 20]
    spacing = [(b - a).total_seconds() * 1000 for a, b in zip(firsts, firsts[1:])]
    if spacing:
        print(f"slow groups (apart by 20 ms or more): {len(firsts)}; spacing median {statistics.median(spacing):.0f} ms,"
              f" quartiles {statistics.quantiles(spacing, n=4)[0]:.0f} / {statistics.quantiles(spacing, n=4)[2]:.0f} ms")
    started = next((l for l in lines if STARTED.search(l)), None)
    gc_log = run / "gc.log"
    if started is None or not gc_log.exists():
        return
    jvm_start = stamp(started) - datetime.timedelta(seconds=float(STARTED.search(started).group(1)))
    pauses = [jvm_start + datetime.timedelta(seconds=float(m.group(1)))
              for l in gc_log.read_text().splitlines() if (m := PAUSE.match(l))]
    in_window = [p for p in pauses if window[0][0] <= p <= end]
    near = 0
    for t in slow:
        i = bisect.bisect_left(pauses, t)
        if any(0 <= j < len(pauses) and abs((pauses[j] - t).total_seconds()) < 0.05 for j in (i - 1, i)):
            near += 1
    chance = min(1.0, len(in_window) * 0.1 / args.seconds) * len(slow)
    print(f"young collections in the window: {len(in_window)}; slow requests within 50 ms of one: {near}"
          f" (chance alone: about {chance:.0f})")


if __name__ == "__main__":
    main()
