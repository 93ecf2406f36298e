#!/usr/bin/env python3
"""Turns one bench/run.sh run (meta.json, results.jsonl[, jfr-top.md]) into the markdown report."""
import json
import sys


def load(path):
    rows = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                r = json.loads(line)
                rows[r["name"]] = r["data"]
    return rows


meta = json.load(open(sys.argv[1]))
r = load(sys.argv[2])
# Optional extra sections (the idle-stream heap histogram, the JFR summary), appended as they are.
extras = []
for path in sys.argv[3:]:
    try:
        extras.append(open(path).read())
    except OSError:
        pass
out = []
p = out.append


def get(name, key, default=None):
    return r.get(name, {}).get(key, default) if isinstance(r.get(name), dict) else default


def num(v, fmt="{:.3f}"):
    return "n/a" if v is None else fmt.format(v)


def ratio(a, b):
    return "n/a" if a is None or b in (None, 0) else "{:.2f}".format(a / b)


def cpu_us(name):
    ticks, tck, reqs = get(name, "cpu_ticks"), get(name, "clk_tck"), get(name, "requests")
    if ticks is None or not reqs:
        return None
    return ticks / tck * 1e6 / reqs


def cpu_us_no_jit(name):
    ticks, jit, tck, reqs = get(name, "cpu_ticks"), get(name, "jit_ticks"), get(name, "clk_tck"), get(name, "requests")
    if ticks is None or jit is None or not reqs:
        return None
    return (ticks - jit) / tck * 1e6 / reqs


def errors(name):
    d = r.get(name) or {}
    return sum(d.get(k, 0) for k in ("errors_connect", "errors_read", "errors_write", "errors_status", "errors_timeout"))


p("# Switchboard bench: direct vs nginx vs gateway")
p("")
p("- date: {date}; `nproc` = {nproc}; {java}; kernel {kernel}; {nginx}".format(**meta))
p("- gateway: commit {commit}, JVM `{gc} -Xms{heap} -Xmx{heap} {gw_opts}`{profiled}, settings: {settings}; auth: {auth}".format(
    settings=f"`{meta['gw_args']}`" if meta.get("gw_args") else "defaults",
    profiled=" (JFR profiling on during the non-streaming and stream runs)" if meta.get("jfr") == "1" else "", **meta))
p("- pinning: {cpus}".format(**meta))
p("- gateway warm-up: {warmed}; memory (random reads, one thread): {memory}".format(
    warmed=meta.get("warmed", "?"), memory=meta.get("memory", "?")))
p("- load average (1/5/15 min) before: {load_before}, after: {load_after}{warn}".format(
    warn=" (**the machine was busy with other work: treat the figures as noisy**)"
    if float(meta["load_before"].split()[0]) > 1.0 else "", **meta))
p("")
p("## Non-streaming (wrk -t1, POST of a small chat completion, keep-alive)")
p("")
p("| measure | direct | nginx | gateway | gateway / direct | gateway / nginx |")
p("| --- | ---: | ---: | ---: | ---: | ---: |")
rows = [
    ("requests/s, c=64", "rps_c64", "rps", "{:.0f}"),
    ("p50 ms, c=64", "rps_c64", "p50_ms", "{:.3f}"),
    ("p99 ms, c=64", "rps_c64", "p99_ms", "{:.3f}"),
    ("p50 ms, c=1", "lat_c1", "p50_ms", "{:.3f}"),
    ("p99 ms, c=1", "lat_c1", "p99_ms", "{:.3f}"),
    ("p50 ms, c=8", "lat_c8", "p50_ms", "{:.3f}"),
    ("p99 ms, c=8", "lat_c8", "p99_ms", "{:.3f}"),
]
for label, prefix, key, fmt in rows:
    d, n, g = (get(f"{prefix}_{t}", key) for t in ("direct", "nginx", "gateway"))
    p(f"| {label} | {num(d, fmt)} | {num(n, fmt)} | {num(g, fmt)} | {ratio(g, d)} | {ratio(g, n)} |")
cd, cn, cg = (cpu_us(f"rps_c64_{t}") for t in ("direct", "nginx", "gateway"))
p(f"| CPU us/request (c=64 run; direct = the fake itself) | {num(cd, '{:.1f}')} | {num(cn, '{:.1f}')} | "
  f"{num(cg, '{:.1f}')} | | {ratio(cg, cn)} |")
jd, jn, jg = (cpu_us_no_jit(f"rps_c64_{t}") for t in ("direct", "nginx", "gateway"))
p(f"| CPU us/request without the JIT compiler threads | {num(jd, '{:.1f}')} | {num(jn, '{:.1f}')} | "
  f"{num(jg, '{:.1f}')} | | {ratio(jg, jn)} |")
errs = {t: sum(errors(f"{k}_{t}") for k in ("rps_c64", "lat_c1", "lat_c8")) for t in ("direct", "nginx", "gateway")}
p(f"| errors (socket + non-2xx) | {errs['direct']} | {errs['nginx']} | {errs['gateway']} | | |")
p("")

p("## Paced streams (64 events 20 ms apart, 128 streams, 32 at a time)")
p("")
p("| measure | direct | nginx | gateway | gateway − direct |")
p("| --- | ---: | ---: | ---: | ---: |")
for label, key in (("time to first event p50 ms (from the request written)", "ttfe_p50_ms"),
                   ("time to first event p99 ms (from the request written)", "ttfe_p99_ms"),
                   ("time to first event p50 ms, from the stream opened", "open_to_first_p50_ms"),
                   ("per-event delay p50 ms", "delay_p50_ms"), ("per-event delay p99 ms", "delay_p99_ms"),
                   ("per-event delay max ms", "delay_max_ms")):
    d, n, g = (get(f"stream_{t}", key) for t in ("direct", "nginx", "gateway"))
    p(f"| {label} | {num(d)} | {num(n)} | {num(g)} | {num(None if d is None or g is None else g - d)} |")
for label, key in (("events delivered > 20 ms late (held back)", "held_back"),
                   ("events bunched (< 5 ms after the previous)", "bunched"),
                   ("streams complete / run", "ok"), ("errors + bad status + incomplete", None)):
    vals = []
    for t in ("direct", "nginx", "gateway"):
        s = r.get(f"stream_{t}", {})
        if key == "ok":
            vals.append(f"{s.get('ok', 'n/a')} / {s.get('streams', 'n/a')}")
        elif key is None:
            vals.append(str(s.get("errors", 0) + s.get("bad_status", 0) + s.get("incomplete", 0)))
        else:
            vals.append(str(s.get(key, "n/a")))
    p(f"| {label} | {vals[0]} | {vals[1]} | {vals[2]} | |")
p("")
p("Delay of an event = its arrival at the client − the upstream's send stamp (both CLOCK_MONOTONIC). "
  "Direct shows the noise floor of the machine: an event late through the gateway but not direct was held back.")
p("")

p("## Idle streams held open")
p("")
p("| measure | gateway | nginx |")
p("| --- | ---: | ---: |")
ig, ing = r.get("idle_gateway", {}), r.get("idle_nginx", {})


def mark(ok):
    return "n/a" if ok is None else ("met" if ok else "**not met**")


def per_stream(d, a, b):
    n = d.get("ready") or 0
    return None if not n or a not in d else (d[b] - d[a]) / n


p(f"| streams asked / open | {ig.get('streams', 'n/a')} / {ig.get('ready', 'n/a')} | {ing.get('streams', 'n/a')} / {ing.get('ready', 'n/a')} |")
p(f"| errors / ended early | {ig.get('errors', 'n/a')} / {ig.get('ended_early', 'n/a')} | {ing.get('errors', 'n/a')} / {ing.get('ended_early', 'n/a')} |")
p(f"| seconds to open all | {num(ig.get('open_s'), '{:.1f}')} | {num(ing.get('open_s'), '{:.1f}')} |")
p(f"| RSS before → with streams, MiB | {num(ig.get('rss0_kib', 0) / 1024, '{:.0f}')} → {num(ig.get('rss1_kib', 0) / 1024, '{:.0f}')} | "
  f"{num(ing.get('rss0_kib', 0) / 1024, '{:.1f}')} → {num(ing.get('rss1_kib', 0) / 1024, '{:.1f}')} |")
p(f"| RSS per stream, KiB | {num(per_stream(ig, 'rss0_kib', 'rss1_kib'), '{:.1f}')} | {num(per_stream(ing, 'rss0_kib', 'rss1_kib'), '{:.1f}')} |")
p(f"| live heap per stream, KiB (after a full GC) | {num(per_stream(ig, 'heap0_kib', 'heap1_kib'), '{:.1f}')} | |")
p("")

if "filters_off_c64" in r:
    p("## Issue 4: the limit, usage and metrics filters, on and off in this run")
    p("")
    p("Two gateways, the same JVM flags and core; the second with `gateway.ratelimit.enabled`, "
      "`gateway.usage.enabled` and `gateway.metrics.enabled` false (key authentication on in both). "
      "They took turns at one connection (10 s each, two rounds).")
    p("")
    p("| measure | filters on | filters off | on − off |")
    p("| --- | ---: | ---: | ---: |")
    for rnd in (1, 2):
        for label, key in (("p50 ms, c=1", "p50_ms"), ("p99 ms, c=1", "p99_ms")):
            a, b = get(f"filters_on_c1_{rnd}", key), get(f"filters_off_c1_{rnd}", key)
            p(f"| {label}, round {rnd} | {num(a)} | {num(b)} | {num(None if a is None or b is None else a - b)} |")
    a, b = get("filters_on_c64", "rps"), get("filters_off_c64", "rps")
    p(f"| requests/s, c=64 | {num(a, '{:.0f}')} | {num(b, '{:.0f}')} | {num(None if a is None or b is None else a - b, '{:+.0f}')} |")
    a, b = cpu_us_no_jit("filters_on_c64"), cpu_us_no_jit("filters_off_c64")
    p(f"| CPU us/request without JIT, c=64 | {num(a, '{:.1f}')} | {num(b, '{:.1f}')} | {num(None if a is None or b is None else a - b, '{:+.1f}')} |")
    io = r.get("idle_filters_off", {})
    a, b = per_stream(ig, "heap0_kib", "heap1_kib"), per_stream(io, "heap0_kib", "heap1_kib")
    p(f"| live heap per idle stream, KiB (jstat after a full GC) | {num(a, '{:.1f}')} | {num(b, '{:.1f}')} | {num(None if a is None or b is None else a - b, '{:+.1f}')} |")
    p(f"| idle streams open / errors | {ig.get('ready', 'n/a')} / {ig.get('errors', 'n/a')} | {io.get('ready', 'n/a')} / {io.get('errors', 'n/a')} | |")
    p("")
    deltas = [get(f"filters_on_c1_{n}", "p50_ms", 0) - get(f"filters_off_c1_{n}", "p50_ms", 0)
              for n in (1, 2) if get(f"filters_on_c1_{n}", "p50_ms") is not None and get(f"filters_off_c1_{n}", "p50_ms") is not None]
    worst = max(deltas) if deltas else None
    p(f"Target: the filters add at most 0.3 ms at p50 (c=1): {num(worst)} ms in the worse round, "
      f"{mark(None if worst is None else worst <= 0.3)}. The heap they keep per idle stream, by class, is below.")
    p("")

active_rounds = sorted(int(k.rsplit("_", 1)[1]) for k in r if k.startswith("active_gateway_") and k.rsplit("_", 1)[1].isdigit())
active_added = []
if active_rounds:
    p("## Full: 2000 concurrent active streams, 20 events 100 ms apart, all opened at once")
    p("")
    p("One burst each not counted (the gateway's streaming path is compiled then), then rounds 45 s apart.")
    p("")
    p("Time to first event counts from the request written; the stream client's own wait before that (its connects")
    p("and writes, on the core it shares with the fake upstream) is in the last column but one, from the stream opened.")
    p("")
    p("| round | first event p50 / p99 ms, direct | gateway | gateway − direct at p50 | per-event delay p50 / p99 ms, direct | gateway | from the stream opened p50 ms, direct / gateway | errors, incomplete, held back (direct; gateway) |")
    p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for label, n in [("not counted", "warm")] + [(str(i), str(i)) for i in active_rounds]:
        dn, gn = f"active_direct_{n}", f"active_gateway_{n}"
        if n == "warm":
            dn, gn = "active_warm_direct", "active_warm_gateway"
        d50, g50 = get(dn, "ttfe_p50_ms"), get(gn, "ttfe_p50_ms")
        added = None if d50 is None or g50 is None else g50 - d50
        if n != "warm" and added is not None:
            active_added.append(added)
        counts = "; ".join(",".join(str(get(x, k)) for k in ("errors", "incomplete", "held_back")) for x in (dn, gn))
        p(f"| {label} | {num(d50, '{:.0f}')} / {num(get(dn, 'ttfe_p99_ms'), '{:.0f}')} | {num(g50, '{:.0f}')} / {num(get(gn, 'ttfe_p99_ms'), '{:.0f}')} "
          f"| {num(added, '{:+.0f}')} | {num(get(dn, 'delay_p50_ms'))} / {num(get(dn, 'delay_p99_ms'))} "
          f"| {num(get(gn, 'delay_p50_ms'))} / {num(get(gn, 'delay_p99_ms'))} "
          f"| {num(get(dn, 'open_to_first_p50_ms'), '{:.0f}')} / {num(get(gn, 'open_to_first_p50_ms'), '{:.0f}')} | {counts} |")
    p("")

ramp_rounds = sorted(int(k.rsplit("_", 1)[1]) for k in r if k.startswith("ramp_gateway_") and k.rsplit("_", 1)[1].isdigit())
ramp_added = []
if ramp_rounds:
    p(f"## Full: 2000 concurrent active streams, 20 events 1 s apart, opened over {get(f'ramp_gateway_{ramp_rounds[0]}', 'open_s')} s")
    p("")
    p("The same number of streams opened at a steady rate, each lasting longer than the opening, so that all are")
    p("open together (the most open at once is in the last column): the first event of each is measured with up")
    p("to 2000 streams active, without the queue of a burst in front of it. Rounds 45 s apart.")
    p("")
    p("| round | first event p50 / p99 ms, direct | gateway | gateway − direct at p50 | per-event delay p50 / p99 ms, direct | gateway | errors, incomplete, held back (direct; gateway) | most open at once (direct; gateway) |")
    p("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for n in ramp_rounds:
        dn, gn = f"ramp_direct_{n}", f"ramp_gateway_{n}"
        d50, g50 = get(dn, "ttfe_p50_ms"), get(gn, "ttfe_p50_ms")
        added = None if d50 is None or g50 is None else g50 - d50
        if added is not None:
            ramp_added.append(added)
        counts = "; ".join(",".join(str(get(x, k)) for k in ("errors", "incomplete", "held_back")) for x in (dn, gn))
        p(f"| {n} | {num(d50)} / {num(get(dn, 'ttfe_p99_ms'))} | {num(g50)} / {num(get(gn, 'ttfe_p99_ms'))} "
          f"| {num(added, '{:+.3f}')} | {num(get(dn, 'delay_p50_ms'))} / {num(get(dn, 'delay_p99_ms'))} "
          f"| {num(get(gn, 'delay_p50_ms'))} / {num(get(gn, 'delay_p99_ms'))} | {counts} | {get(dn, 'max_open')}; {get(gn, 'max_open')} |")
    p("")

if "soak_1" in r:
    p("## Full: soak at ~70% of the gateway's c=64 maximum (windows of 30 s)")
    p("")
    p("| window | req/s | p50 ms | p99 ms | errors | CPU us/request |")
    p("| ---: | ---: | ---: | ---: | ---: | ---: |")
    w = 1
    while f"soak_{w}" in r:
        n = f"soak_{w}"
        p(f"| {w} | {num(get(n, 'rps'), '{:.0f}')} | {num(get(n, 'p50_ms'))} | {num(get(n, 'p99_ms'))} | {errors(n)} | {num(cpu_us(n), '{:.1f}')} |")
        w += 1
    rss = r.get("soak_rss") or []
    if rss:
        p("")
        p(f"RSS every 10 s (MiB): {', '.join(str(round(x / 1024)) for x in rss)}")
    p("")

p("## Against the targets (issue 2, issue 6)")
p("")
added_p99 = None if get("lat_c1_gateway", "p99_ms") is None else get("lat_c1_gateway", "p99_ms") - get("lat_c1_direct", "p99_ms")
nginx_p99 = None if get("lat_c1_nginx", "p99_ms") is None else get("lat_c1_nginx", "p99_ms") - get("lat_c1_direct", "p99_ms")
added_ttfe = None if get("stream_gateway", "ttfe_p99_ms") is None else get("stream_gateway", "ttfe_p99_ms") - get("stream_direct", "ttfe_p99_ms")
share = None if not get("rps_c64_nginx", "rps") else get("rps_c64_gateway", "rps", 0) / get("rps_c64_nginx", "rps")
rss_ps = per_stream(ig, "rss0_kib", "rss1_kib")



p("| target | measured | |")
p("| --- | ---: | --- |")
p(f"| added p99 at c=1 < 1 ms (nginx adds {num(nginx_p99)} ms) | {num(added_p99)} ms | {mark(None if added_p99 is None else added_p99 < 1)} |")
p(f"| added time to first event at p99 < 1 ms | {num(added_ttfe)} ms | {mark(None if added_ttfe is None else added_ttfe < 1)} |")
hb = get("stream_gateway", "held_back")
hbd = get("stream_direct", "held_back")
# Late events are counted direct too: on a busy machine the scheduler delays some; through the
# gateway "held back" means clearly more late events than direct (20% + 10 allows for the noise).
p(f"| no event held back: late events vs direct ({hbd}) | {hb} | "
  f"{mark(None if hb is None or hbd is None else hb <= hbd * 1.2 + 10)} |")
if active_added:
    med = sorted(active_added)[len(active_added) // 2]
    errs = sum(get(f"active_gateway_{i}", "errors", 1) + get(f"active_gateway_{i}", "bad_status", 1) for i in active_rounds)
    p(f"| 2000 active streams: first event within 5 ms of direct at p50, no errors (median of {len(active_added)} rounds) | "
      f"{med:+.0f} ms, {errs} errors | {mark(med <= 5 and errs == 0)} |")
if ramp_added:
    med = sorted(ramp_added)[len(ramp_added) // 2]
    errs = sum(get(f"ramp_gateway_{i}", "errors", 1) + get(f"ramp_gateway_{i}", "bad_status", 1) for i in ramp_rounds)
    most = min(get(f"ramp_gateway_{i}", "max_open", 0) for i in ramp_rounds)
    p(f"| the same, opened over {get(f'ramp_gateway_{ramp_rounds[0]}', 'open_s')} s, all open together (median of {len(ramp_added)} rounds; fewest open at once {most}) | "
      f"{med:+.3f} ms, {errs} errors | {mark(med <= 5 and errs == 0 and most >= 2000)} |")
p(f"| requests/s ≥ 25% of nginx's | {num(None if share is None else share * 100, '{:.0f}')}% | {mark(None if share is None else share >= 0.25)} |")
p(f"| ≤ 20 KiB RSS per idle stream, no error | {num(rss_ps, '{:.1f}')} KiB, {ig.get('errors', 'n/a')} errors | "
  f"{mark(None if rss_ps is None else rss_ps <= 20 and ig.get('errors', 1) == 0 and ig.get('ready') == ig.get('streams'))} |")
p("")
for extra in extras:
    if extra.strip():
        p(extra)
print("\n".join(out))
