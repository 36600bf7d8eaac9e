#!/usr/bin/env python3
#
# Turns the runs run.sh kept (one JSON object per run, "case.rep.json")
# into the table of SPEC section 9 (stdout) and bench/results.json.
# Every figure is the median and the worst of its runs, never the best:
# the worst is the lowest rate or ratio and the highest time.  A ratio
# or a difference to a baseline is taken run by run (each run of a case
# is interleaved with the same run of its baseline) and its median and
# worst reported.  A figure not measured is null in the JSON and "not
# measured" in the table, with the reason; nothing here passes or fails.
#
#	report.py runs-dir results not-measured results.json secs reps

import glob
import json
import os
import statistics
import sys

runs_dir, res_path, nm_path, out = sys.argv[1:5]
secs, reps = float(sys.argv[5]), int(sys.argv[6])


def load_lines(path):
    d = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                k, _, v = line.partition(" ")
                d[k] = v
    return d


res = load_lines(res_path)
why = load_lines(nm_path)

# runs[case] = {rep: result}
runs = {}
for path in glob.glob(os.path.join(runs_dir, "*.json")):
    case, rep = os.path.basename(path)[:-5].rsplit(".", 1)
    try:
        with open(path) as f:
            runs.setdefault(case, {})[int(rep)] = json.load(f)
    except (ValueError, OSError):
        pass


def values(case, key):
    """key of every run of case, in run order (None where missing)."""
    return [r.get(key) if isinstance(r.get(key), (int, float)) else None
            for _, r in sorted(runs.get(case, {}).items())]


def pairs(a, ka, b, kb, f):
    """f(a's key, b's key) for each run both cases have."""
    ra, rb = runs.get(a, {}), runs.get(b, {})
    out = []
    for rep in sorted(set(ra) & set(rb)):
        x, y = ra[rep].get(ka), rb[rep].get(kb)
        if isinstance(x, (int, float)) and isinstance(y, (int, float)):
            v = f(x, y)
            if v is not None:
                out.append(v)
    return out


def ratio(x, y):
    return x / y if y else None


def diff(x, y):
    return x - y


def rnd(v):
    if v is None:
        return None
    if isinstance(v, float):
        if v.is_integer():
            return int(v)
        return round(v, 1) if abs(v) >= 100 else round(v, 3)
    return v


class Fig:
    """Median and worst of some runs; higher is better or lower is."""

    def __init__(self, vals, higher_better):
        self.vals = [v for v in vals if v is not None]
        self.higher = higher_better

    @property
    def median(self):
        return rnd(statistics.median(self.vals)) if self.vals else None

    @property
    def worst(self):
        if not self.vals:
            return None
        return rnd(min(self.vals) if self.higher else max(self.vals))

    @property
    def n(self):
        return len(self.vals)

    def meets(self, ok):
        """Whether ok(x) holds for the median and for the worst."""
        if not self.vals:
            return ""
        m, w = ok(self.median), ok(self.worst)
        return "yes" if m and w else "median only" if m else "no"

    def json(self):
        return {"median": self.median, "worst": self.worst, "runs": self.n}


def rate(case, key="per_s"):
    return Fig(values(case, key), True)


def time_(case, key):
    return Fig(values(case, key), False)


def most(case, key):
    v = [x for x in values(case, key) if x is not None]
    return rnd(max(v)) if v else None


sb_status = res.get("sb_status", "not run")
sb_ok = sb_status == "ok"

# --- milter-direct figures ---
cached = {}
for c in (1, 10, 50):
    cached[c] = {
        "sb": rate("sb.c%d" % c),
        "null": rate("null.c%d" % c),
        "null_log": rate("nulllog.c%d" % c),
        "ratio_vs_null_log": Fig(pairs("sb.c%d" % c, "per_s",
                                       "nulllog.c%d" % c, "per_s", ratio),
                                 True),
        "ratio": Fig(pairs("sb.c%d" % c, "per_s", "null.c%d" % c, "per_s",
                           ratio), True),
        "sb_p99": time_("sb.c%d" % c, "p99_ms"),
        "null_p99": time_("null.c%d" % c, "p99_ms"),
        "added_p99": Fig(pairs("sb.c%d" % c, "p99_ms", "null.c%d" % c,
                               "p99_ms", diff), False),
        "sb_max": most("sb.c%d" % c, "max_ms"),
        "null_max": most("null.c%d" % c, "max_ms"),
    }

uncached = rate("uncached")
uncached_p50 = time_("uncached", "p50_ms")
uncached_p99 = time_("uncached", "p99_ms")
backend_peak = Fig(values("uncached", "backend_peak"), False)

cold = time_("cold", "p50_ms")
cold_p99 = time_("cold", "p99_ms")
cold_direct = time_("cold_direct", "p50_ms")
cold_direct_p99 = time_("cold_direct", "p99_ms")
cold_added = Fig(pairs("cold", "p50_ms", "cold_direct", "p50_ms", diff),
                 False)
cold_added_p99 = Fig(pairs("cold", "p99_ms", "cold_direct", "p99_ms", diff),
                     False)

hol_p99 = time_("hol", "p99_ms")
hol_added = Fig(pairs("hol", "p99_ms", "sb.c10", "p99_ms", diff), False)

scale_ratio = Fig(pairs("k1000000", "per_s", "k1000", "per_s", ratio), True)
bytes_entry = Fig(pairs("load1000000", "rss_kb", "load1000", "rss_kb",
                        lambda a, b: (a - b) * 1024 / (1000000 - 1000)),
                  False)
load_1m = time_("load1000000", "s")
load_1k = time_("load1000", "s")
save_1m = time_("save", "s")
wait_save = time_("during_save", "max_ms")
wait_nosave = time_("no_save", "max_ms")
wait_null = time_("null_save", "max_ms")


# 50 access rules and a 100,000-entry table, the same daemon without
rules = {c: {"sb": rate("rules.c%d" % c), "base": rate("norules.c%d" % c),
             "ratio": Fig(pairs("rules.c%d" % c, "per_s", "norules.c%d" % c,
                                "per_s", ratio), True),
             "p99": time_("rules.c%d" % c, "p99_ms"),
             "base_p99": time_("norules.c%d" % c, "p99_ms")}
         for c in (10, 50)}


def cb(key, higher):
    return Fig(values("cachebench", key), higher)


# --- through Postfix ---
PF_CASES = (
    ("no_milter_20", "none_20", "Postfix alone, no milter (all accepted)"),
    ("relay_recipient_maps_20", "pflist_20",
     "Postfix alone, relay_recipient_maps"),
    ("null_milter_20", "null_milter_20", "null milter"),
    ("list_milter_20", "list_milter_20", "list milter"),
    ("list_milter_50", "list_milter_50", "list milter"),
    ("cached_20", "cached_20", "scam-back, cached"),
    ("cached_50", "cached_50", "scam-back, cached"),
    ("uncached_20", "uncached_20", "scam-back, every recipient new"),
    ("uncached_50", "uncached_50", "scam-back, every recipient new"),
)
# CPU time per RCPT of each process through Postfix (bench/cpu.py).
CPU_ROLES = ("client", "postfix", "milter", "backend")
pf = {}
for key, case, _ in PF_CASES:
    c = "pf_" + case
    if not runs.get(c):
        pf[key] = None
        continue
    f = rate(c)
    o = f.json()
    o.update({
        "p50_ms": time_(c, "p50_ms").median,
        "p99_ms": time_(c, "p99_ms").median,
        "p99_ms_worst": time_(c, "p99_ms").worst,
        "max_ms": most(c, "max_ms"),
        "per_run": [rnd(v) for v in values(c, "per_s")],
        "reject": sum(v or 0 for v in values(c, "reject")),
        "continue": sum(v or 0 for v in values(c, "continue")),
        "tempfail": sum(v or 0 for v in values(c, "tempfail")),
        "errors": sum(v or 0 for v in values(c, "errors")),
        "cpu_us_per_rcpt": {role: time_(c, "cpu_us_" + role).median
                            for role in CPU_ROLES},
    })
    if case.startswith("uncached"):
        n = case.split("_")[1]
        o["backend_connections_max"] = most(c, "backend_peak")
        o["backend_connections"] = Fig(values(c, "backend_peak"),
                                       False).json()
        o["backend_reply_p50_ms"] = time_(c, "backend_reply_p50_ms").median
        o["backend_reply_p99_ms"] = time_(c, "backend_reply_p99_ms").median
        o["backend_rcpts"] = sum(v or 0 for v in values(c, "backend_rcpts"))
        o["ratio_vs_cached"] = Fig(pairs(c, "per_s", "pf_cached_" + n,
                                         "per_s", ratio), True).json()
    if case.startswith("cached"):
        n = case.split("_")[1]
        o["ratio_vs_list_milter"] = Fig(pairs(c, "per_s",
                                              "pf_list_milter_" + n,
                                              "per_s", ratio), True).json()
    pf[key] = o


def pfrate(key):
    return rate("pf_" + dict((k, c) for k, c, _ in PF_CASES)[key])


# The keys of the first bench, as medians, each with its worst beside.
r = {}


def put(key, fig):
    r[key] = fig.median
    r[key + "_worst"] = fig.worst


put("cached_verdicts_per_s", cached[50]["sb"])
put("null_milter_verdicts_per_s", cached[50]["null"])
put("cached_ratio_vs_null_milter", cached[50]["ratio"])
put("cached_latency_p99_ms", cached[10]["sb_p99"])
put("null_milter_latency_p99_ms", cached[10]["null_p99"])
put("cached_added_latency_p99_ms", cached[10]["added_p99"])
put("uncached_verdicts_per_s", uncached)
put("backend_connections_max", backend_peak)
r["sessions_limit"] = 20
put("bytes_per_entry_1m", bytes_entry)
put("save_1m_s", save_1m)
put("load_1m_s", load_1m)
put("load_1k_s", load_1k)
put("max_verdict_wait_during_save_ms", wait_save)
put("max_verdict_wait_without_save_ms", wait_nosave)
put("max_verdict_wait_null_milter_ms", wait_null)
put("head_of_line_cached_p99_ms", hol_p99)
put("cached_ratio_1m_vs_1k", scale_ratio)
put("cold_verdict_added_ms", cold_added)
put("rules_cached_ratio_vs_no_rules", rules[50]["ratio"])
r["rules_by_sessions"] = {
    str(c): {k: v.json() for k, v in rules[c].items()} for c in (10, 50)}
r["cold_verdict"] = {
    "p50_ms": cold.json(), "p99_ms": cold_p99.json(),
    "backend_direct_p50_ms": cold_direct.json(),
    "backend_direct_p99_ms": cold_direct_p99.json(),
    "added_p50_ms": cold_added.json(), "added_p99_ms": cold_added_p99.json(),
}
r["cached_by_sessions"] = {
    str(c): {k: (v.json() if isinstance(v, Fig) else v)
             for k, v in cached[c].items()} for c in (1, 10, 50)}

old_pf = {"no_milter_rcpt_per_s": "no_milter_20",
          "null_milter_rcpt_per_s": "null_milter_20",
          "list_milter_rcpt_per_s": "list_milter_20",
          "postfix_list_rcpt_per_s": "relay_recipient_maps_20",
          "scam_back_rcpt_per_s": "cached_20"}
for old, new in old_pf.items():
    f = pfrate(new)
    pf[old] = f.median
    pf[old + "_worst"] = f.worst
r["postfix"] = pf

r["detail"] = {
    "uncached_p50_ms": uncached_p50.json(),
    "uncached_p99_ms": uncached_p99.json(),
    "uncached_max_ms": most("uncached", "max_ms"),
    "uncached_tempfail": sum(v or 0 for v in values("uncached",
                                                    "tempfail")),
    "uncached_backend_reply_p50_ms":
        time_("uncached", "backend_reply_p50_ms").json(),
    "uncached_backend_reply_p99_ms":
        time_("uncached", "backend_reply_p99_ms").json(),
    "head_of_line_added_p99_ms": hol_added.json(),
    "head_of_line_slow_per_s": rate("hol_slow").json(),
    "head_of_line_slow_backend_peak": most("hol_slow", "backend_peak"),
    "k1000_per_s": rate("k1000").json(),
    "k1000000_per_s": rate("k1000000").json(),
    "rss_1000_kb": time_("load1000", "rss_kb").json(),
    "rss_1000000_kb": time_("load1000000", "rss_kb").json(),
    "load_1m_logged_ms": time_("load1000000", "logged_ms").json(),
    "save_1m_logged_ms": time_("save", "logged_ms").json(),
    "save_lines": most("save", "lines"),
    "during_save_over_10ms": time_("during_save", "over_10ms").json(),
    "no_save_over_10ms": time_("no_save", "over_10ms").json(),
    "null_save_over_10ms": time_("null_save", "over_10ms").json(),
}
r["cache_alone"] = {k: cb(k, hi).json() for k, hi in (
    ("lookups_per_s_1k", True), ("lookups_per_s_big", True),
    ("ratio_big_vs_1k", True), ("bytes_per_entry", False),
    ("insert_all_s", False), ("walk_all_s", False),
    ("max_lookup_us_during_walk", False),
    ("lookups_per_s_during_walk", True))}
# The shared cache (bench/share.sh): per run, two gateways and one store.
share_probes = Fig(values("share_probes", "shared_per_address"), False)
share_alone = Fig(values("share_probes", "alone_per_address"), False)
share_hit = time_("share_hit", "p50_ms")
share_hit_p99 = time_("share_hit", "p99_ms")
share_rtt = time_("share_rtt", "p50_ms")
share_rtt_p99 = time_("share_rtt", "p99_ms")
share_local = time_("share_local", "p50_ms")
share_local_p99 = time_("share_local", "p99_ms")
share_added = Fig(pairs("share_hit", "p50_ms", "share_rtt", "p50_ms",
                        diff), False)
share_added_p99 = Fig(pairs("share_hit", "p99_ms", "share_rtt", "p99_ms",
                            diff), False)
share_wait = {}
for case in sorted(runs):
    if case.startswith("share_wait_"):
        share_wait[case[len("share_wait_"):]] = runs[case].get(1)
r["shared_cache"] = {
    "probes_per_new_address": share_probes.json(),
    "probes_per_new_address_alone": share_alone.json(),
    "shared_hit_p50_ms": share_hit.json(),
    "shared_hit_p99_ms": share_hit_p99.json(),
    "store_rtt_p50_ms": share_rtt.json(),
    "store_rtt_p99_ms": share_rtt_p99.json(),
    "shared_hit_added_p50_ms": share_added.json(),
    "shared_hit_added_p99_ms": share_added_p99.json(),
    "local_hit_p50_ms": share_local.json(),
    "local_hit_p99_ms": share_local_p99.json(),
    "addresses_per_run": most("share_probes", "addresses"),
    "store": runs.get("share_store", {}).get(1),
    "lock_wait": share_wait,
}
r["scam_back_status"] = sb_status
r["load_average"] = {"start": res.get("load_start"),
                     "end": res.get("load_end")}
r["elapsed_s"] = int(res["elapsed_s"]) if "elapsed_s" in res else None
r["method"] = {
    "seconds_per_run": secs,
    "runs": reps,
    "statistic": "median and worst of the runs (worst: lowest rate or "
                 "ratio, highest time); ratios and differences taken "
                 "run by run against the baseline's interleaved run",
    "headline_sessions": {"verdicts_per_s": 50, "latency": 10},
    "cache_scale": "through the daemon: cache files of 1,000 and "
                   "1,000,000 lines loaded at start; RSS of the "
                   "milter engine process; save timed around "
                   "scambackctl save cache",
    "postfix": "a private Postfix started by the bench (own "
               "configuration directory), smtpload with XCLIENT, no DATA; "
               "uncached: every recipient new, backend 1 ms per reply, "
               "sessions 20",
    "cold_verdict": "one session, every recipient new, backend answering "
                    "at once; added = p50 RCPT to verdict minus p50 of "
                    "the same SMTP RCPT sent to the backend directly",
    "recipients": "80 % unknown, 20 % valid (bench/bench.h)",
    "shared_cache": "two gateways and one Redis store on 127.0.0.1, "
                    "backend 1 ms per reply; probes: N new addresses "
                    "through both at once (10 sessions each, the same "
                    "order), backend probes / N, beside two gateways "
                    "without it; shared hit: one session on a gateway "
                    "that never saw the addresses, all in the store; "
                    "added = that minus the store's PING round trip "
                    "(hiredis), run by run; lock_wait: bench/storewait, "
                    "per new address, polling every 10 ms or pub/sub",
}

# Why each missing headline figure is missing.
r["not_measured"] = {}
no_result = ("left out (BENCH_ONLY=%s)" % res["only"] if "only" in res
             else "no result (see the driver's messages)")
src = {"bytes_per_entry_1m": "cache.1000000", "load_1m_s": "cache.1000000",
       "rules_cached_ratio_vs_no_rules": "rules",
       "load_1k_s": "cache.1000", "cached_ratio_1m_vs_1k": "cache.1000000",
       "save_1m_s": "save"}
for k, v in list(r.items()):
    if v is not None or k.endswith("_worst"):
        continue
    if not sb_ok and k != "null_milter_verdicts_per_s":
        r["not_measured"][k] = "scam-back: " + sb_status
    else:
        r["not_measured"][k] = why.get(src.get(k), no_result)
if not share_probes.vals:
    r["not_measured"]["shared_cache"] = why.get("share", no_result)
for k, v in pf.items():
    if v is None:
        if "postfix" in why:
            r["not_measured"]["postfix." + k] = why["postfix"]
        elif not sb_ok and ("cached" in k or k.startswith("scam")):
            r["not_measured"]["postfix." + k] = "scam-back: " + sb_status
        else:
            r["not_measured"]["postfix." + k] = "no result"

with open(out, "w") as f:
    json.dump(r, f, indent=2)
    f.write("\n")


# --- the table ---
def fmt(v, unit=""):
    if v is None:
        return "-"
    if isinstance(v, float):
        s = "%.3f" % v if abs(v) < 10 else "{:,.0f}".format(v)
    else:
        s = "{:,}".format(v)
    return s + unit


def mw(fig, unit=""):
    """median / worst"""
    if fig is None or not fig.vals:
        return "not measured"
    return "%s / %s%s" % (fmt(fig.median), fmt(fig.worst), unit)


rows = []


def row(figure, value, baseline="", rel="", target="", met=""):
    rows.append((figure, value, baseline, rel, target, met))


def sess(c):
    return "%d session%s" % (c, "s" if c > 1 else "")


for c in (1, 10, 50):
    x = cached[c]
    row("cached verdicts/s, %s" % sess(c), mw(x["sb"]),
        "null milter " + mw(x["null"]), mw(x["ratio"]), ">= 0.9 x null",
        x["ratio"].meets(lambda v: v >= 0.9))
for c in (1, 10, 50):
    x = cached[c]
    row("  against a null milter writing a line per verdict, %s" % sess(c),
        "", "null milter -l " + mw(x["null_log"]),
        mw(x["ratio_vs_null_log"]))
for c in (1, 10, 50):
    x = cached[c]
    row("cached p99, %s" % sess(c), mw(x["sb_p99"], " ms"),
        "null milter " + mw(x["null_p99"], " ms"),
        mw(x["added_p99"], " ms added"), "<= 1 ms added",
        x["added_p99"].meets(lambda v: v <= 1))
row("uncached verdicts/s, 50 sessions to the milter, backend 1 ms",
    mw(uncached), "", "", "(libmilter's pool)")
row("  its p50 / p99 (medians)", "%s / %s ms" % (fmt(uncached_p50.median),
                                                   fmt(uncached_p99.median)))
row("  backend connections, most at once", mw(backend_peak),
    "sessions 20", "", "<= 20", backend_peak.meets(lambda v: v <= 20))
row("cold verdict, p50 RCPT to verdict", mw(cold, " ms"),
    "backend direct " + mw(cold_direct, " ms"),
    mw(cold_added, " ms added"), "<= 2 ms added",
    cold_added.meets(lambda v: v <= 2))
row("cold verdict, p99", mw(cold_p99, " ms"),
    "backend direct " + mw(cold_direct_p99, " ms"),
    mw(cold_added_p99, " ms added"))
row("head-of-line: cached p99 while 50 wait on 200 ms", mw(hol_p99, " ms"),
    "no slow load " + mw(cached[10]["sb_p99"], " ms"),
    mw(hol_added, " ms added"))
row("cached verdicts/s, 1,000,000 entries", mw(rate("k1000000")),
    "1,000 entries " + mw(rate("k1000")), mw(scale_ratio), ">= 0.9",
    scale_ratio.meets(lambda v: v >= 0.9))
row("resident bytes per entry at 1,000,000", mw(bytes_entry), "", "",
    "<= 100", bytes_entry.meets(lambda v: v <= 100))
row("cache load, 1,000,000 entries (exec to served)", mw(load_1m, " s"),
    "1,000 entries " + mw(load_1k, " s"), "", "<= 1 s",
    load_1m.meets(lambda v: v <= 1))
row("cache save, 1,000,000 entries", mw(save_1m, " s"), "", "", "<= 1 s",
    save_1m.meets(lambda v: v <= 1))
row("longest verdict wait during 3 saves", mw(wait_save, " ms"),
    "no save " + mw(wait_nosave, " ms"), "", "adds nothing",
    "yes" if wait_save.vals and wait_nosave.vals and
    wait_save.median <= wait_nosave.median else
    "no" if wait_save.vals else "")
row("  the null milter, same load (libmilter alone)", "",
    mw(wait_null, " ms"))
row("cache alone: lookups/s at 1,000,000 entries",
    mw(cb("lookups_per_s_big", True)),
    "1,000 entries " + mw(cb("lookups_per_s_1k", True)),
    mw(cb("ratio_big_vs_1k", True)))
for c in (10, 50):
    x = rules[c]
    row("cached verdicts/s, 50 rules + 100,000-entry table, %s" % sess(c),
        mw(x["sb"]), "no rules " + mw(x["base"]), mw(x["ratio"]),
        ">= 0.9 x no rules", x["ratio"].meets(lambda v: v >= 0.9))
row("  cached p99 with the rules, 10 sessions", mw(rules[10]["p99"], " ms"),
    "no rules " + mw(rules[10]["base_p99"], " ms"))
row("cache alone: bytes per entry", mw(cb("bytes_per_entry", False)))
row("cache alone: longest lookup during a walk",
    mw(cb("max_lookup_us_during_walk", False), " us"))
row("shared cache, two gateways: backend probes per new address",
    mw(share_probes), "alone " + mw(share_alone), "", "1",
    share_probes.meets(lambda x: x <= 1.0))
row("shared hit p50 (store knew, own cache did not)", mw(share_hit, " ms"),
    "store round trip " + mw(share_rtt, " ms"),
    "+" + mw(share_added, " ms"), "<= 1 ms + round trip",
    share_added.meets(lambda x: x <= 1.0))
row("shared hit p99", mw(share_hit_p99, " ms"),
    "store round trip " + mw(share_rtt_p99, " ms"),
    "+" + mw(share_added_p99, " ms"))
row("  a hit of the gateway's own cache, p50 / p99 (medians)",
    "%s / %s ms" % (fmt(share_local.median), fmt(share_local_p99.median)))

prow = []


def both(a, b):
    """Met on two counts: yes only if both are."""
    if not a or not b:
        return a or b
    if "no" in (a, b):
        return "no"
    return "yes" if a == b == "yes" else "median only"


def pfrow(key, label, base_key=None, rel=None, target="", met=""):
    case = "pf_" + dict((k, c) for k, c, _ in PF_CASES)[key]
    f = rate(case)
    o = pf.get(key) or {}
    base = ""
    if base_key:
        base = "%s %s" % (base_key[1], mw(pfrate(base_key[0])))
    prow.append((label, mw(f), "%s / %s / %s" % (
        fmt(o.get("p50_ms")), fmt(o.get("p99_ms")), fmt(o.get("max_ms"))),
        fmt(o.get("backend_connections_max")) if "uncached" in key else "",
        base, mw(rel) if rel is not None else "", target, met))


pfrow("no_milter_20", "Postfix alone (all accepted), 20")
pfrow("relay_recipient_maps_20", "Postfix relay_recipient_maps, 20")
pfrow("null_milter_20", "null milter, 20")
pfrow("list_milter_20", "list milter, 20")
pfrow("list_milter_50", "list milter, 50")
for n in (20, 50):
    rel = Fig(pairs("pf_cached_%d" % n, "per_s", "pf_list_milter_%d" % n,
                    "per_s", ratio), True)
    pfrow("cached_%d" % n, "scam-back cached, %d" % n,
          ("list_milter_%d" % n, "list"), rel,
          ">= 1.0 x list" if n == 20 else "",
          rel.meets(lambda v: v >= 1.0) if n == 20 else "")
for n in (20, 50):
    rel = Fig(pairs("pf_uncached_%d" % n, "per_s", "pf_cached_%d" % n,
                    "per_s", ratio), True)
    peak = Fig(values("pf_uncached_%d" % n, "backend_peak"), False)
    m1, m2 = rel.meets(lambda v: v >= 0.6), peak.meets(lambda v: v <= 20)
    pfrow("uncached_%d" % n, "scam-back uncached, %d" % n,
          ("cached_%d" % n, "cached"), rel,
          ">= 0.6 x cached, <= 20 conns",
          both(m1, m2))

la = r["load_average"]
print("scam-back bench: %g s per run, %d runs per figure: median / worst "
      "(worst: lowest rate, highest time)." % (secs, reps))
print("Each figure beside its baseline from the same runs; ratios and "
      "differences run by run.  Everything on 127.0.0.1.")
print("Load average (1/5/15 min) at start %s, at end %s; %s s in all.  "
      "Not a test: nothing passes or fails." % (la["start"], la["end"],
                                               r["elapsed_s"]))
print()


def table(hdr, body):
    w = [max(len(str(x[i])) for x in body + [hdr]) for i in range(len(hdr))]
    line = "  ".join("%-*s" % (w[i], hdr[i]) for i in range(len(hdr)))
    print(line.rstrip())
    print("-" * len(line.rstrip()))
    for x in body:
        print("  ".join("%-*s" % (w[i], x[i])
                        for i in range(len(hdr))).rstrip())
    print()


table(("figure (to the milter unless said)", "scam-back", "baseline",
       "vs baseline", "SPEC 9 target", "met"), rows)
if not any(k.startswith("pf_") for k in runs):
    print("Through a real Postfix: not measured: %s" %
          why.get("postfix", "no result"))
    prow = []
else:
    print("Through a real Postfix (smtpload, XCLIENT, no DATA), RCPT/s by "
          "SMTP sessions; uncached: every recipient new,")
    print("backend 1 ms per reply (it measured %s / %s ms p50 / p99), "
          "sessions 20.  RCPT latency p50 / p99 medians, max of all "
          "runs." %
          (fmt((pf.get("uncached_20") or {}).get("backend_reply_p50_ms")),
           fmt((pf.get("uncached_20") or {}).get("backend_reply_p99_ms"))))
    print()
    table(("case, sessions", "RCPT/s", "p50 / p99 / max ms",
           "backend conns", "baseline", "vs baseline", "SPEC 9 target",
           "met"), prow)
if prow:
    print("Where the CPU goes through Postfix, per RCPT (medians of the runs, "
          "us): the client (smtpload),")
    print("Postfix (smtpd and the rest), the milter (scam-back: parent, "
          "engine and prober), the backend; \"cores\" is")
    print("all of it times RCPT/s: how much of the 2 cores the run had "
          "(the machine's other load takes the rest).")
    print()
    crow = []
    for key, case, _ in PF_CASES:
        o = pf.get(key)
        if not o:
            continue
        cpu = o["cpu_us_per_rcpt"]
        known = [cpu[x] for x in CPU_ROLES if cpu.get(x) is not None]
        total = sum(known) if known else None
        crow.append(("%s, %s" % (dict((k, l) for k, _, l in PF_CASES)[key],
                                 key.rsplit("_", 1)[1]),) +
                    tuple(fmt(cpu.get(x)) for x in CPU_ROLES) +
                    (fmt(total), fmt(total * o["median"] / 1e6
                                     if total and o["median"] else None)))
    table(("case, sessions",) + CPU_ROLES + ("in all", "cores"), crow)
if not sb_ok:
    print("scam-back's figures not measured: %s" % sb_status)
if share_wait:
    print("A gateway that finds another's lock on a new address, per new "
          "address (bench/storewait, one run):")
    print("polling every 10 ms (what scam-back does) or told by pub/sub; "
          "uncontested: nobody waits, as for most new addresses.")
    print()
    table(("probe ms, how, case", "store CPU us", "commands", "messages",
           "waiter late, median / worst ms"),
          [("%s ms, %s" % (w.get("probe_ms"), k.rsplit("_", 1)[0]
                           .replace("_", ", ")),
            fmt(w.get("store_cpu_us")), fmt(w.get("commands")),
            fmt(w.get("messages")),
            "%s / %s" % (fmt(w.get("late_ms_median")),
                         fmt(w.get("late_ms_worst")))
            if w.get("late_ms_median") is not None else "-")
           for k, w in sorted(share_wait.items(),
                              key=lambda kv: (kv[1] or {}).get("probe_ms",
                                                               0))
           if w])
for k, v in sorted(r["not_measured"].items()):
    if k.startswith("postfix.") and not prow:
        continue
    if sb_ok or not v.startswith("scam-back:"):
        print("not measured: %s: %s" % (k, v))
