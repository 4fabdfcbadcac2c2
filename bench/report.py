#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/RESULTS.md from the figures of bench/run.sh's runs.

    bench/report.py HEADER RUN-FILE... [--out RESULTS.md]

HEADER and each RUN-FILE are plain lines that bench/run.sh writes, a kind
and its figures:

    run R | start ISO-TIME | load L1 L5 L15 | busy TEXT | load_after L1 L5 L15
    bytes NAME BYTES
    wrk LABEL REQ/S P50-MS P99-MS NON-2XX SOCKET-ERRORS CONNS,PER,ROUND P99,PER,ROUND REQUESTS SECONDS
    mem NAME VMHWM-KB VMRSS-KB ANON-PEAK-KB FILE-PEAK-KB SHMEM-PEAK-KB SAMPLES
    floor NAME CASES/S COMMITS/S | sqlite VERSION
    cpu WALL-S OURS OTHERS STEAL          (cores: this benchmark, other processes, the hypervisor)

The medians are over the runs: of each run's figure, and for a ratio of the
runs' ratios (not the ratio of the medians). The goals' verdicts use the
medians, but memory, which the machine's load does not move, uses the
largest of the runs. Writes --out (default: prints) and prints the goals and
the medians."""
import argparse
import statistics
import sys

MB = 1024.0

READS = (  # label stem, what it is, what else to say of it
    ("list", "listing 50 at a random cursor", ""),
    ("get", "one case by id", ""),
    ("settings", "GET /v1/agency-settings", ""),
    ("health", "GET /healthz", ", no auth, no database"),
)
BYTES_OF = {"list": "list", "get": "case", "settings": "settings", "health": "healthz"}
LABELS = ("list-ink", "list-ngx", "list-small", "get-ink", "get-ngx", "settings-ink", "settings-ngx",
          "health-ink", "health-ngx", "create-b1", "create-def")
PROCS = ("main", "small", "create-b1", "create-def")
FLOORS = (
    ("store-1", "store_case_create(), one commit per case"),
    ("store-64", "store_case_create_async(), group commit, 64 in flight"),
    ("raw-1", "raw inserts, one commit per case"),
    ("raw-32", "raw inserts, 32 cases per commit"),
)


def num(s):
    try:
        return float(s)
    except ValueError:
        return None


def read_header(path):
    h = {"db": []}
    with open(path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition(" ")
            if k == "db":
                h["db"].append(v)
            else:
                h[k] = v
    return h


def read_run(path):
    r = {"wrk": {}, "mem": {}, "floor": {}, "bytes": {}, "busy": "", "cpu": None}
    with open(path) as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            k = w[0]
            if k == "run":
                r["run"] = int(w[1])
            elif k in ("start", "load", "load_after", "sqlite"):
                r[k] = " ".join(w[1:])
            elif k == "busy":
                r["busy"] = " ".join(w[1:])
            elif k == "bytes":
                r["bytes"][w[1]] = int(w[2])
            elif k == "wrk":
                r["wrk"][w[1]] = {
                    "rps": float(w[2]), "p50": float(w[3]), "p99": float(w[4]), "bad": int(w[5]),
                    "errs": int(w[6]), "conns": w[7].replace(",", " "), "p99s": w[8].replace(",", " "),
                }
            elif k == "mem":
                v = [int(x) for x in w[2:8]]
                r["mem"][w[1]] = dict(zip(("hwm", "rss", "anon", "file", "shmem", "samples"), v))
            elif k == "floor":
                r["floor"][w[1]] = (num(w[2]), num(w[3]))
            elif k == "cpu":
                r["cpu"] = dict(zip(("wall", "ours", "others", "steal"), (float(x) for x in w[1:5])))
    r["ratio"] = ratios(r)
    anon = [m["anon"] for m in r["mem"].values()]
    r["anon_max"] = max(anon) / MB if anon else None
    return r


def ratio(a, b):
    return a / b if a is not None and b else None


def ratios(r):
    rps = {k: v["rps"] for k, v in r["wrk"].items()}
    out = {s: ratio(rps.get(s + "-ink"), rps.get(s + "-ngx")) for s, _, _ in READS}
    out["create"] = ratio(rps.get("create-def"), rps.get("create-b1"))
    out["scale"] = ratio(rps.get("list-small"), rps.get("list-ink"))
    return out


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def f0(x):
    return "-" if x is None else "%.0f" % x


def f1(x):
    return "-" if x is None else "%.1f" % x


def f2(x):
    return "-" if x is None else "%.2f" % x


def pct(x):
    return "-" if x is None else "%.1f%%" % (100 * x)


def times(x):
    return "-" if x is None else "%.2fx" % x


class Report:
    def __init__(self, h, runs):
        self.h, self.runs = h, runs
        self.n = len(runs)
        self.big = h.get("big", "0") != "0"
        self.quick = not self.big

    def per_run(self, fn):
        return [fn(r) for r in self.runs]

    def med(self, fn):
        return median(self.per_run(fn))

    def wrk(self, label, field):
        return self.med(lambda r: r["wrk"].get(label, {}).get(field))

    def each(self, fn, fmt):
        return ", ".join(fmt(x) for x in self.per_run(fn))

    # ---- the goals ----
    def goals(self):
        rows = []
        big = self.h.get("big", "0")
        main = self.h.get("main", "?")
        on = "" if self.big else " (quick run: on %s cases, not 1M)" % main

        def goal(text, measured, each, ok_med, ok_run, note=""):
            met = sum(1 for r in self.runs if ok_run(r))
            if ok_med is None:
                verdict = "not measured"
            else:
                verdict = "met" if ok_med else "NOT met"
            rows.append("| %s | %s | %s | %d of %d | %s%s |" % (text, measured, each, met, self.n, verdict, note))

        def le(a, b):
            return a is not None and a <= b

        def ge(a, b):
            return a is not None and a >= b

        g, gi, gn = self.med(lambda r: r["ratio"]["get"]), self.wrk("get-ink", "rps"), self.wrk("get-ngx", "rps")
        goal("one case by id >= 70% of nginx",
             "%s (inkasso %s, nginx %s req/s)" % (pct(g), f0(gi), f0(gn)),
             self.each(lambda r: r["ratio"]["get"], pct),
             None if g is None else g >= 0.70, lambda r: ge(r["ratio"]["get"], 0.70))

        lr, lp = self.med(lambda r: r["ratio"]["list"]), self.wrk("list-ink", "p99")
        goal("listing 50 at a random cursor on 1M >= 25% of nginx, p99 <= 15 ms",
             "%s, p99 %s ms (inkasso %s, nginx %s req/s)" % (pct(lr), f2(lp), f0(self.wrk("list-ink", "rps")),
                                                             f0(self.wrk("list-ngx", "rps"))),
             self.each(lambda r: (r["ratio"]["list"], r["wrk"]["list-ink"]["p99"]),
                       lambda x: "%s / %s ms" % (pct(x[0]), f2(x[1]))),
             None if lr is None else lr >= 0.25 and le(lp, 15),
             lambda r: ge(r["ratio"]["list"], 0.25) and le(r["wrk"]["list-ink"]["p99"], 15), on)

        if self.big:
            s = self.med(lambda r: r["ratio"]["scale"])
            goal("listing on 1M within 1.25x of 100k (100k req/s / 1M req/s <= 1.25)",
                 "%s (%s cases %s, %s cases %s req/s)" % (f2(s), self.h.get("small"),
                                                         f0(self.wrk("list-small", "rps")), big,
                                                         f0(self.wrk("list-ink", "rps"))),
                 self.each(lambda r: r["ratio"]["scale"], f2),
                 None if s is None else s <= 1.25, lambda r: le(r["ratio"]["scale"], 1.25))
        else:
            rows.append("| listing on 1M within 1.25x of 100k | not measured (quick run: 100k only) | | | - |")

        c, cp = self.med(lambda r: r["ratio"]["create"]), self.wrk("create-def", "p99")
        nb = "" if self.h.get("has_batch") == "1" else " (this build has no group commit)"
        goal("durable creates, default >= 5x INKASSO_COMMIT_BATCH=1, p99 <= 20 ms",
             "%s, p99 %s ms (default %s, INKASSO_COMMIT_BATCH=1 %s req/s)" % (
                 times(c), f2(cp), f0(self.wrk("create-def", "rps")), f0(self.wrk("create-b1", "rps"))),
             self.each(lambda r: (r["ratio"]["create"], r["wrk"]["create-def"]["p99"]),
                       lambda x: "%s / %s ms" % (times(x[0]), f2(x[1]))),
             None if c is None else c >= 5 and le(cp, 20),
             lambda r: ge(r["ratio"]["create"], 5) and le(r["wrk"]["create-def"]["p99"], 20), nb)

        am = self.per_run(lambda r: r["anon_max"])
        top = max((x for x in am if x is not None), default=None)
        fm = self.med(lambda r: max((m["file"] for m in r["mem"].values()), default=0) / MB)
        goal("private (anonymous) resident memory <= 100 MB at 1M cases",
             "%s MB, the highest RssAnon peak of any inkasso in any run (median of the runs' highest: %s MB); "
             "file pages, apart: RssFile peak %s MB (median)" % (f1(top), f1(median(am)), f1(fm)),
             ", ".join(f1(x) + " MB" for x in am),
             None if top is None else top <= 100, lambda r: le(r["anon_max"], 100), on)
        return rows

    # ---- the medians ----
    def medians(self):
        h, out = self.h, []
        wt = h.get("wrk_threads", "2")
        out.append("Reads: inkasso on %s cases vs nginx serving the same bytes (wrk -t%s -c50, keep-alive)"
                   % (h.get("main"), wt))
        out.append("")
        out.append("| request | inkasso req/s | p50 ms | p99 ms | nginx req/s | p50 ms | p99 ms "
                   "| inkasso/nginx | each run |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for stem, what, more in READS:
            i, x = stem + "-ink", stem + "-ngx"
            b = self.med(lambda r: r["bytes"].get(BYTES_OF[stem]))
            out.append("| %s (%s B%s) | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                what, f0(b), more, f0(self.wrk(i, "rps")), f2(self.wrk(i, "p50")), f2(self.wrk(i, "p99")),
                f0(self.wrk(x, "rps")), f2(self.wrk(x, "p50")), f2(self.wrk(x, "p99")),
                pct(self.med(lambda r: r["ratio"][stem])), self.each(lambda r: r["ratio"][stem], pct)))
        out.append("")
        small = h.get("small")
        out.append("Durable creates (POST /v1/collection-cases, synchronous=FULL, 201 after COMMIT; wrk -t%s -c64; "
                   "each server on its own copy of the %s-case database)" % (wt, small))
        out.append("")
        out.append("| inkasso | req/s | p50 ms | p99 ms | non-2xx, all runs |")
        out.append("|---|---:|---:|---:|---:|")
        for label, what in (("create-b1", "INKASSO_COMMIT_BATCH=1"), ("create-def", "default")):
            bad = sum(r["wrk"].get(label, {}).get("bad", 0) for r in self.runs)
            out.append("| %s | %s | %s | %s | %d |" % (what, f0(self.wrk(label, "rps")), f2(self.wrk(label, "p50")),
                                                      f2(self.wrk(label, "p99")), bad))
        out.append("")
        c = self.med(lambda r: r["ratio"]["create"])
        if h.get("has_batch") == "1":
            out.append("Ratio default / INKASSO_COMMIT_BATCH=1: %s (runs: %s)."
                       % (times(c), self.each(lambda r: r["ratio"]["create"], times)))
        else:
            out.append("This build has no INKASSO_COMMIT_BATCH ('inkasso --help' does not list it) and no group "
                       "commit: both rows are the same binary with one commit per request, so their ratio (%s) only "
                       "shows run-to-run noise." % times(c))
        out.append("")
        if self.big:
            out.append("Scale: the listing on both databases, side by side")
            out.append("")
            out.append("| listing | req/s | p50 ms | p99 ms |")
            out.append("|---|---:|---:|---:|")
            for label, n in (("list-small", small), ("list-ink", h.get("big"))):
                out.append("| on %s cases | %s | %s | %s |" % (
                    n, f0(self.wrk(label, "rps")), f2(self.wrk(label, "p50")), f2(self.wrk(label, "p99"))))
            out.append("| %s / %s req/s (goal <= 1.25) | %s | | |" % (
                small, h.get("big"), f2(self.med(lambda r: r["ratio"]["scale"]))))
            out.append("")
        out.append("In-process floors (bench/floor, same disk, WAL, synchronous=FULL; rows: case + event + outbox + "
                   "idempotency)")
        out.append("")
        out.append("| floor | cases/s | commits/s |")
        out.append("|---|---:|---:|")
        for k, what in FLOORS:
            out.append("| %s | %s | %s |" % (what, f0(self.med(lambda r: r["floor"].get(k, (None,))[0])),
                                            f0(self.med(lambda r: r["floor"].get(k, (None, None))[1]))))
        out.append("")
        out.append("Memory of each inkasso, MB (medians; the peaks of RssAnon and RssFile are of samples every 0.5 s)")
        out.append("")
        out.append(MEM_HEAD)
        out.append(MEM_RULE)
        for p in PROCS:
            ms = [r["mem"][p] for r in self.runs if p in r["mem"]]
            if not ms:
                continue
            row = [median(m[k] / MB for m in ms) for k in ("anon", "file", "shmem", "hwm", "rss")]
            out.append("| %s | %s | %s (largest %s) | %s | %s | %s | %s |" % (
                p, self.db_of(p), f1(row[0]), f1(max(m["anon"] for m in ms) / MB), f1(row[1]), f1(row[2]),
                f1(row[3]), f1(row[4])))
        return out

    def db_of(self, p):
        h = self.h
        return {"main": h.get("main"), "small": h.get("small")}.get(p, "copy of %s" % h.get("small"))

    # ---- one run ----
    def run(self, r):
        out, cpu = [], r["cpu"] or {}
        cores = self.h.get("cores", "?")
        out.append("### Run %d of %d, %s" % (r["run"], self.n, r.get("start", "?")))
        out.append("")
        out.append("Load average before: %s (after: %s). CPU during the run, in cores of %s: this benchmark %s, "
                   "other processes %s, steal (the hypervisor) %s; %s s.%s" % (
                       r.get("load", "?"), r.get("load_after", "?"), cores, f2(cpu.get("ours")),
                       f2(cpu.get("others")), f2(cpu.get("steal")), f0(cpu.get("wall")),
                       " Busy at its start: %s." % r["busy"] if r["busy"] else ""))
        out.append("")
        out.append("| measurement | req/s | p50 ms | p99 ms | p99 per round, ms | non-2xx | socket errors "
                   "| new TCP connections per round |")
        out.append("|---|---:|---:|---:|---|---:|---:|---|")
        for label in LABELS:
            w = r["wrk"].get(label)
            if w:
                out.append("| %s | %s | %s | %s | %s | %d | %d | %s |" % (
                    label, f0(w["rps"]), f2(w["p50"]), f2(w["p99"]), w["p99s"], w["bad"], w["errs"], w["conns"]))
        out.append("")
        rs, parts = r["ratio"], []
        for stem, what, _ in READS:
            ngx = r["wrk"].get(stem + "-ngx", {}).get("rps")
            parts.append("%s %s of nginx's %s req/s (%s B)" % (
                what, pct(rs[stem]), f0(ngx), r["bytes"].get(BYTES_OF[stem], "?")))
        parts.append("creates default / INKASSO_COMMIT_BATCH=1 %s" % times(rs["create"]))
        if rs["scale"] is not None:
            parts.append("listing %s / %s %s" % (self.h.get("small"), self.h.get("big"), f2(rs["scale"])))
        out.append("Ratios: " + "; ".join(parts) + ".")
        out.append("")
        fl = r["floor"]
        out.append("Floors, cases/s: store_case_create() %s, group commit (64 in flight) %s, raw inserts one per "
                   "commit %s, 32 per commit %s (%s commits/s)." % (
                       f0(fl.get("store-1", (None,))[0]), f0(fl.get("store-64", (None,))[0]),
                       f0(fl.get("raw-1", (None,))[0]), f0(fl.get("raw-32", (None,))[0]),
                       f0(fl.get("raw-32", (None, None))[1])))
        out.append("")
        out.append(MEM_HEAD.replace(" (largest of the runs)", ""))
        out.append(MEM_RULE)
        for p in PROCS:
            m = r["mem"].get(p)
            if m:
                out.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                    p, self.db_of(p), f1(m["anon"] / MB), f1(m["file"] / MB), f1(m["shmem"] / MB),
                    f1(m["hwm"] / MB), f1(m["rss"] / MB)))
        out.append("")
        return out

    def header(self):
        h, sq = self.h, sorted({r.get("sqlite", "?") for r in self.runs})
        loads = "; ".join("run %d: %s" % (r["run"], r.get("load", "?")) for r in self.runs)
        return [
            "# inkasso benchmark results",
            "",
            "Written by `bench/run.sh`, started %s: %d run%s of the whole comparison, %s s in all." % (
                h.get("date", "?"), self.n, "" if self.n == 1 else "s", h.get("elapsed", "?")),
            "Reproduce: `%s` from the repository root (bench/README.md explains each figure)." % h.get("cmd", "?"),
            "",
            "- machine: %s" % h.get("machine", "?"),
            "- versions: SQLite %s, %s" % (", ".join(sq), h.get("versions", "?")),
            "- databases: %s; 10 tenants, built by bench/gen" % "; ".join(
                "%s cases (%s)" % tuple(d.split(" ", 1)) for d in h["db"]),
            "- inkasso: default INKASSO_THREADS (cores), INKASSO_LOG_LEVEL=%s (a log line per request, to a file)"
            % h.get("log_level", "?"),
            "- each run starts every server afresh and measures everything once; wrk and the servers share the "
            "same %s cores; the servers compared run at the same time and are measured in %s alternating rounds "
            "of %s s each, after %s s of warm-up each; in a run, req/s = requests / seconds over the rounds, "
            "p50 = mean of the rounds', p99 = the worst round's" % (
                h.get("cores", "?"), h.get("rounds", "?"), h.get("secs", "?"), h.get("warm", "?")),
            "- a median is over the %s, of each run's figure; a ratio's median is the median of the runs' "
            "ratios, shown with the median req/s of both sides (nginx's is the anchor: a ratio that rose "
            "because nginx was slowed shows there)" % ("one run" if self.n == 1 else "%d runs" % self.n),
            "- load average before each run: %s%s" % (loads, "" if self.n == 1 else (
                " (from the second run on, the 1-minute figure includes the previous run of this benchmark; "
                "each run's CPU line below separates the other processes' share)")),
            "",
        ]

    def medians_part(self):
        return (["## Goals of issue 12 (verdicts from the medians of %d run%s)" % (self.n, "" if self.n == 1
                                                                                   else "s"), "",
                 "| goal | median | each run | runs meeting it | verdict |", "|---|---|---|---:|---|"]
                + self.goals()
                + ["", "## Medians of %d run%s" % (self.n, "" if self.n == 1 else "s"), ""]
                + self.medians() + [""])

    def document(self):
        out = self.header() + self.medians_part() + ["## Each run", ""]
        for r in self.runs:
            out += self.run(r)
        out.append("New TCP connections: accepted on the whole machine during the round (/proc/net/snmp "
                   "PassiveOpens); with keep-alive about wrk's 50 or 64 plus other processes' traffic. "
                   "Memory: RssAnon is the private (anonymous) memory; RssFile the file pages mapped, which are the "
                   "kernel's page cache (SQLite's mmap, the binary, the libraries); VmHWM the peak of both together.")
        return "\n".join(out) + "\n"


MEM_HEAD = ("| inkasso | database | RssAnon peak (largest of the runs) | RssFile peak | RssShmem peak "
            "| VmHWM | VmRSS at end |")
MEM_RULE = "|---|---|---:|---:|---:|---:|---:|"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("header")
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--out")
    a = ap.parse_args()
    runs = sorted((read_run(p) for p in a.runs), key=lambda r: r["run"])
    rep = Report(read_header(a.header), runs)
    doc = rep.document()
    if a.out:
        with open(a.out, "w") as f:
            f.write(doc)
        print("\n".join(rep.medians_part()))
    else:
        sys.stdout.write(doc)


if __name__ == "__main__":
    main()
