#!/usr/bin/env python3
#
# Turns the "key value" lines run.sh collected into the table of SPEC
# section 9 (stdout) and bench/results.json.  Each figure stands beside
# its baseline from the same run.  A figure not measured is null in the
# JSON and "not measured" in the table, with the reason; nothing here
# passes or fails.
#
#	report.py results not-measured results.json secs reps

import json
import sys


def load(path):
    d = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            k, _, v = line.partition(" ")
            d[k] = v
    return d


res = load(sys.argv[1])
why = load(sys.argv[2])
out = sys.argv[3]
secs, reps = sys.argv[4], sys.argv[5]


def num(key):
    v = res.get(key)
    if v is None or v in ("", "NA"):
        return None
    try:
        f = float(v)
    except ValueError:
        return None
    return int(f) if f.is_integer() and "." not in v else f


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 3)


def sub(a, b):
    if a is None or b is None:
        return None
    return round(a - b, 3)


sb_status = res.get("sb_status", "not run")
sb_ok = sb_status == "ok"

rss_1m, rss_1k = num("rss.1000000.kb"), num("rss.1000.kb")
bytes_per_entry = None
if rss_1m is not None and rss_1k is not None:
    bytes_per_entry = round((rss_1m - rss_1k) * 1024 / (1000000 - 1000), 1)

pf = {
    "no_milter_rcpt_per_s": num("pf.none.per_s"),
    "null_milter_rcpt_per_s": num("pf.null.per_s"),
    "list_milter_rcpt_per_s": num("pf.list.per_s"),
    "postfix_list_rcpt_per_s": num("pf.pflist.per_s"),
    "scam_back_rcpt_per_s": num("pf.sb.per_s"),
}

r = {
    "cached_verdicts_per_s": num("sb.c50.per_s"),
    "null_milter_verdicts_per_s": num("null.c50.per_s"),
    "cached_ratio_vs_null_milter": ratio(num("sb.c50.per_s"),
                                         num("null.c50.per_s")),
    "cached_latency_p99_ms": num("sb.c10.p99_ms"),
    "null_milter_latency_p99_ms": num("null.c10.p99_ms"),
    "cached_added_latency_p99_ms": sub(num("sb.c10.p99_ms"),
                                       num("null.c10.p99_ms")),
    "uncached_verdicts_per_s": num("uncached.per_s"),
    "backend_connections_max": num("backend.peak"),
    "sessions_limit": 20,
    "bytes_per_entry_1m": bytes_per_entry,
    "save_1m_s": num("save.s"),
    "load_1m_s": num("load.1000000.s"),
    "load_1k_s": num("load.1000.s"),
    "max_verdict_wait_during_save_ms": num("during_save.max_ms"),
    "max_verdict_wait_without_save_ms": num("no_save.max_ms"),
    "max_verdict_wait_null_milter_ms": num("null_save.max_ms"),
    "head_of_line_cached_p99_ms": num("hol.p99_ms"),
    "cached_ratio_1m_vs_1k": ratio(num("k1000000.per_s"),
                                   num("k1000.per_s")),
    "postfix": pf,
    "detail": {},
    "scam_back_status": sb_status,
    "not_measured": {},
    "method": {
        "seconds_per_run": float(secs),
        "best_of": int(reps),
        "headline_sessions": {"verdicts_per_s": 50, "latency": 10},
        "cache_scale": "through the daemon: cache files of 1,000 and "
                       "1,000,000 lines loaded at start; RSS of the "
                       "milter engine process; save timed around "
                       "scambackctl save cache",
        "recipients": "80 % unknown, 20 % valid (bench/bench.h)",
    },
}

for c in (1, 10, 50):
    for who in ("null", "sb"):
        for k in ("per_s", "p50_ms", "p99_ms", "max_ms", "over_10ms"):
            r["detail"]["%s_c%d_%s" % (who, c, k)] = num("%s.c%d.%s" %
                                                        (who, c, k))
for k in ("uncached.p50_ms", "uncached.p99_ms", "uncached.reject",
          "uncached.continue", "uncached.tempfail", "backend.rcpts",
          "hol.p50_ms", "hol.max_ms", "hol.per_s", "hol.slow_per_s",
          "hol.slow_p50_ms", "hol.slow_peak", "k1000.per_s",
          "k1000000.per_s", "k1000.p99_ms", "k1000000.p99_ms",
          "k1000000.reject", "k1000000.continue", "rss.1000.kb",
          "rss.1000000.kb", "save.lines", "during_save.p99_ms",
          "load.1000000.logged_ms", "load.1000000.entries",
          "load.1000.logged_ms", "save.logged_ms",
          "during_save.over_10ms", "k1000000.over_10ms", "k1000.over_10ms",
          "during_save.verdicts", "no_save.over_10ms", "no_save.verdicts",
          "no_save.p99_ms", "null_save.over_10ms", "null_save.verdicts",
          "null_save.p99_ms",
          "pf.none.p99_ms", "pf.null.p99_ms", "pf.list.p99_ms",
          "pf.pflist.p99_ms", "pf.sb.p99_ms", "pf.none.errors",
          "pf.null.errors", "pf.list.errors", "pf.pflist.errors",
          "pf.sb.errors", "pf.sb.reject", "pf.list.reject",
          "pf.pflist.reject"):
    r["detail"][k.replace(".", "_").replace("-", "_")] = num(k)

r["cache_alone"] = {k: num("cb." + k) for k in (
    "lookups_per_s_1k", "lookups_per_s_big", "ratio_big_vs_1k",
    "bytes_per_entry", "insert_all_s", "walk_all_s",
    "max_lookup_us_during_walk", "lookups_per_s_during_walk")}

# Why each missing headline figure is missing.
reasons = dict(why)
for k, v in list(r.items()):
    if v is not None or k in ("detail", "not_measured", "postfix",
                              "cache_alone"):
        continue
    if not sb_ok:
        r["not_measured"][k] = "scam-back: " + sb_status
    else:
        src = {"bytes_per_entry_1m": "cache.1000000", "load_1m_s":
               "cache.1000000", "load_1k_s": "cache.1000",
               "cached_ratio_1m_vs_1k": "cache.1000000",
               "save_1m_s": "save"}.get(k)
        r["not_measured"][k] = reasons.get(src, "no result (see the "
                                           "driver's messages)")
for k, v in pf.items():
    if v is None:
        if "postfix" in reasons:
            r["not_measured"]["postfix." + k] = reasons["postfix"]
        elif k == "scam_back_rcpt_per_s" and not sb_ok:
            r["not_measured"]["postfix." + k] = "scam-back: " + sb_status
        else:
            r["not_measured"]["postfix." + k] = "no result"

with open(out, "w") as f:
    json.dump(r, f, indent=2)
    f.write("\n")


# --- the table ---
def fmt(v, unit=""):
    if v is None:
        return "not measured"
    if isinstance(v, float):
        s = "%.3f" % v if abs(v) < 10 else "%.0f" % v
    else:
        s = "{:,}".format(v)
    return s + unit


rows = []


def row(figure, value, baseline, base_name, rel, target):
    rows.append((figure, value, baseline, base_name, rel, target))


d = r["detail"]
for c in (1, 10, 50):
    sb, nu = d["sb_c%d_per_s" % c], d["null_c%d_per_s" % c]
    row("cached verdicts/s, %d session%s" % (c, "s" if c > 1 else ""),
        fmt(sb), fmt(nu), "null milter", fmt(ratio(sb, nu)),
        ">= 0.9 x null")
for c in (1, 10, 50):
    sb, nu = d["sb_c%d_p99_ms" % c], d["null_c%d_p99_ms" % c]
    row("cached latency p99, %d session%s" % (c, "s" if c > 1 else ""),
        fmt(sb, " ms"), fmt(nu, " ms"), "null milter",
        fmt(sub(sb, nu), " ms added"), "<= 1 ms added")
row("uncached verdicts/s, 50 sessions, backend 1 ms",
    fmt(r["uncached_verdicts_per_s"]), "", "", "", ">= 10,000/s")
row("uncached latency p50 / p99",
    "%s / %s" % (fmt(d["uncached_p50_ms"], " ms"),
                 fmt(d["uncached_p99_ms"], " ms")), "", "", "", "")
row("backend connections, most at once",
    fmt(r["backend_connections_max"]), fmt(20), "sessions limit", "",
    "<= sessions")
row("head-of-line: cached p99 while 50 wait on 200 ms",
    fmt(r["head_of_line_cached_p99_ms"], " ms"),
    fmt(d["sb_c10_p99_ms"], " ms"), "same, no slow load",
    fmt(sub(r["head_of_line_cached_p99_ms"], d["sb_c10_p99_ms"]),
        " ms added"), "<= 1 ms added")
row("cached verdicts/s, 1,000,000 entries", fmt(d["k1000000_per_s"]),
    fmt(d["k1000_per_s"]), "1,000 entries",
    fmt(r["cached_ratio_1m_vs_1k"]), ">= 0.9")
row("resident bytes per entry at 1,000,000",
    fmt(r["bytes_per_entry_1m"]), "", "", "", "<= 120")
row("cache load, 1,000,000 entries (start to served)",
    fmt(r["load_1m_s"], " s"), fmt(r["load_1k_s"], " s"), "1,000 entries",
    "", "<= 1 s")
row("cache save, 1,000,000 entries", fmt(r["save_1m_s"], " s"), "", "",
    "", "<= 1 s")
row("longest verdict wait during saves (1M entries)",
    fmt(r["max_verdict_wait_during_save_ms"], " ms"),
    fmt(r["max_verdict_wait_without_save_ms"], " ms"), "same load, no save",
    "", "<= 10 ms")
row("verdicts over 10 ms during saves",
    "%s of %s" % (fmt(d["during_save_over_10ms"]),
                  fmt(d["during_save_verdicts"])),
    "%s of %s" % (fmt(d["no_save_over_10ms"]), fmt(d["no_save_verdicts"])),
    "same load, no save", "", "none")
row("longest verdict wait, null milter, same load", "",
    fmt(r["max_verdict_wait_null_milter_ms"], " ms"),
    "libmilter alone (%s over 10 ms)" % fmt(d["null_save_over_10ms"]), "",
    "")
ca = r["cache_alone"]
row("cache alone: lookups/s at 1,000,000 entries",
    fmt(ca["lookups_per_s_big"]), fmt(ca["lookups_per_s_1k"]),
    "1,000 entries", fmt(ca["ratio_big_vs_1k"]), "")
row("cache alone: bytes per entry (RSS)", fmt(ca["bytes_per_entry"]), "",
    "", "", "<= 120")
row("cache alone: insert / walk 1,000,000 entries",
    "%s / %s" % (fmt(ca["insert_all_s"], " s"), fmt(ca["walk_all_s"], " s")),
    "", "", "", "")
row("cache alone: longest lookup during a walk",
    fmt(ca["max_lookup_us_during_walk"], " us"), "", "", "", "<= 10 ms")
base = pf["no_milter_rcpt_per_s"]
row("Postfix RCPT/s, no milter (all accepted)", fmt(base), "", "", "", "")
for k, name in (("postfix_list_rcpt_per_s",
                 "Postfix RCPT/s, relay_recipient_maps"),
                ("null_milter_rcpt_per_s", "Postfix RCPT/s, null milter"),
                ("list_milter_rcpt_per_s", "Postfix RCPT/s, list milter")):
    row(name, fmt(pf[k]), fmt(base), "no milter", fmt(ratio(pf[k], base)),
        "")
# The list milter gives the same verdicts: the fair floor.
row("Postfix RCPT/s, scam-back (cached)", fmt(pf["scam_back_rcpt_per_s"]),
    fmt(pf["list_milter_rcpt_per_s"]), "list milter",
    fmt(ratio(pf["scam_back_rcpt_per_s"], pf["list_milter_rcpt_per_s"])),
    "")

print("scam-back bench: %s s per run, best of %s, everything on 127.0.0.1;"
      % (secs, reps))
print("each figure beside its baseline from the same run.  Not a test: "
      "nothing passes or fails.")
print()
hdr = ("figure", "scam-back", "baseline", "", "ratio / diff",
       "SPEC 9 target")
w = [max(len(str(x[i])) for x in rows + [hdr]) for i in range(6)]
line = "  ".join("%-*s" % (w[i], hdr[i]) for i in range(6))
print(line.rstrip())
print("-" * len(line.rstrip()))
for x in rows:
    print("  ".join("%-*s" % (w[i], x[i]) for i in range(6)).rstrip())
print()
if not sb_ok:
    print("scam-back's figures not measured: %s" % sb_status)
for k, v in sorted(r["not_measured"].items()):
    if sb_ok or not v.startswith("scam-back:"):
        print("not measured: %s: %s" % (k, v))
