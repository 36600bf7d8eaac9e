#!/usr/bin/env python3
#
# Where the CPU goes during one run: the CPU time of each role (a process
# and all its descendants: Postfix's master and its smtpd processes, the
# milter's processes, the backend, the client), per RCPT answered.  On 2
# shared cores the load generator, Postfix, the milter and the backend
# (which stands for another machine) all take from the same CPU, so a
# figure that costs more CPU per RCPT is lower for that alone.
#
#	cpu.py window OUT T0 FROM SECS ROLE=PID...
#		CPU ticks of each role at T0 + FROM and at T0 + FROM + SECS
#		(T0: the run's start, seconds since the epoch), to OUT
#	cpu.py merge RUN OUT	cpu_us_<role> per RCPT into RUN
#
# run.sh places the window inside the run's measured window, and starts
# this beside the run, so that Python's start-up (slow on a loaded
# machine) does not move it.  merge divides by the run's rate (per_s in
# RUN) times the window's length.  A process that ended within the
# window is not counted (its ticks went to a parent's cutime); Linux only
# (/proc).

import json
import os
import sys
import time


def procs():
    """{pid: (ppid, utime + stime in ticks)} of every process now."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        # The name is in parentheses and may hold anything: split after.
        f = s[s.rindex(")") + 2:].split()
        out[int(d)] = (int(f[1]), int(f[11]) + int(f[12]))
    return out


def snap(roles):
    """(now, {role: ticks of the role's processes})"""
    t = time.monotonic()
    p = procs()
    kids = {}
    for pid, (ppid, _) in p.items():
        kids.setdefault(ppid, []).append(pid)
    ticks = {}
    for role in roles:
        name, _, pid = role.partition("=")
        todo = [int(pid)] if pid.isdigit() else []
        n = 0
        while todo:
            x = todo.pop()
            if x in p:
                n += p[x][1]
                todo.extend(kids.get(x, []))
        ticks[name] = n
    return t, ticks


def window(path, t0, start, secs, roles):
    time.sleep(max(0.0, t0 + start - time.time()))
    b = snap(roles)
    time.sleep(max(0.0, t0 + start + secs - time.time()))
    a = snap(roles)
    with open(path, "w") as f:
        json.dump({"secs": a[0] - b[0], "before": b[1], "after": a[1]}, f)


def merge(run, path):
    try:
        with open(run) as f:
            d = json.load(f)
        with open(path) as f:
            w = json.load(f)
    except (OSError, ValueError):
        return
    n = (d.get("per_s") or 0) * w["secs"]
    if n <= 0:
        return
    hz = os.sysconf("SC_CLK_TCK")
    for role, ticks in w["after"].items():
        d["cpu_us_" + role] = round((ticks - w["before"][role]) * 1e6 /
                                    hz / n, 1)
    with open(run, "w") as f:
        json.dump(d, f)


if len(sys.argv) >= 6 and sys.argv[1] == "window":
    window(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]),
           float(sys.argv[5]), sys.argv[6:])
elif len(sys.argv) == 4 and sys.argv[1] == "merge":
    merge(sys.argv[2], sys.argv[3])
else:
    sys.exit("usage: cpu.py window OUT T0 FROM SECS ROLE=PID... | "
             "merge RUN OUT")
