#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""report.py: bench/RESULTS.md and bench/results.svg from the benches' output.

    python3 bench/report.py [--out-dir DIR] [--command TEXT]... OUTPUT...

Each OUTPUT is the saved standard output of a bench (bench_lock,
bench_queue, ...) or of python_ref.py; a file may hold several of them one
after the other. Every measured row of a bench prints one line (see
bench_result() in bench_util.h):

    @result<TAB>family<TAB>competitor<TAB>median<TAB>min<TAB>max<TAB>unit<TAB>better

and, first, the regime it ran in (see bench_regime.h):

    @regime<TAB>label=quiet<TAB>placement=pinned<TAB>spin_rt_ns=452<TAB>...

report.py collects them, with the header lines each bench prints at the
top ("command:", "build:", "library:", "machine:", ...), and writes into
DIR (default: the directory of this script, bench/):

  RESULTS.md   the regimes (placement, load, the measured spin and wait
               round trips and the other processes' load), a verdict per
               family per regime, where weft loses and why (LOSS_REASONS),
               a headline table of weft against the best
               competitor per family and regime, the machine, date and
               versions, the commands, and one table per family and regime
               (competitor, median, min-max, unit, ratio to weft);
  results.svg  a horizontal bar chart, one bar per family and regime, of
               weft's speed
               relative to the best competitor: for "lower is better"
               units best/weft, for "higher is better" ones weft/best, so
               above 1 weft is faster.

A family measured in several regimes is several families here, one per
regime ("pinned, quiet", "unpinned, external-load", ...): a figure is never
shown without its regime. A run that printed no @regime line (an old
output) has the regime "regime not measured". Reference rows (Python's)
are shown beside weft's of every regime with their run's label (quiet,
external-load...), whatever the placement; those of a run without a
regime in every regime of their family.

Rows whose competitor starts with "Python " (python_ref.py) are references:
they appear in the tables, marked so, but never count as the best
competitor; neither do weft's own variants and the rows a bench marks
"(ref)" or "(fds left open)", which do not offer weft's semantics. --command records how the outputs were made (ci/bench.sh passes
its own command line). Standard library only; Python 3.8 or later.
"""

import argparse
import copy
import datetime
import math
import os
import platform
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

# The families, in report order, with what they measure. A family that is
# not listed here still gets a table, after these.
FAMILIES = [
    ("lock.uncontended", "uncontended acquire + release, one thread"),
    ("lock.uncontended.single", "the same in a process that has only ever had one thread"),
    ("lock.contended.2", "2 threads hammer one lock, total throughput"),
    ("lock.contended.2.cpu", "the same runs, CPU time of the process per operation"),
    ("lock.contended.8", "8 threads hammer one lock, total throughput"),
    ("lock.contended.8.cpu", "the same runs, CPU time of the process per operation"),
    ("rlock.uncontended", "uncontended recursive acquire + release, one thread"),
    ("rlock.uncontended.single", "the same in a process that has only ever had one thread"),
    ("rlock.contended.2", "2 threads hammer one recursive lock, total throughput"),
    ("rlock.contended.2.cpu", "the same runs, CPU time of the process per operation"),
    ("rlock.contended.8", "8 threads hammer one recursive lock, total throughput"),
    ("rlock.contended.8.cpu", "the same runs, CPU time of the process per operation"),
    ("event.pingpong", "two threads hand a token back and forth through two events"),
    ("event.pingpong.cpu", "the same runs, CPU time per round trip"),
    ("event.pingpong.4pairs", "4 event ping-pongs at once (one per process), time per round "
     "trip of all of them"),
    ("event.pingpong.4pairs.cpu", "the same runs, CPU time per round trip (all the pairs')"),
    ("cond.pingpong", "two threads hand a token back and forth through a lock + condition"),
    ("cond.pingpong.cpu", "the same runs, CPU time per round trip"),
    ("cond.pingpong.4pairs", "4 ping-pongs at once (one per process), time per round trip "
     "of all of them"),
    ("cond.pingpong.4pairs.cpu", "the same runs, CPU time per round trip (all the pairs')"),
    ("queue.bounded.1p1c", "1 producer, 1 consumer, a queue bounded to 1024"),
    ("queue.bounded.2p2c", "2 producers, 2 consumers, a queue bounded to 1024"),
    ("queue.bounded.4p4c", "4 producers, 4 consumers, a queue bounded to 1024"),
    ("queue.unbounded.1p1c", "1 producer, 1 consumer, an unbounded queue"),
    ("queue.unbounded.2p2c", "2 producers, 2 consumers, an unbounded queue"),
    ("queue.unbounded.4p4c", "4 producers, 4 consumers, an unbounded queue"),
    ("executor.roundtrip", "submit one empty call to a pool of 2 and wait for its result"),
    ("executor.throughput", "submit many empty calls to a pool of 2, then wait for all"),
    ("executor.asused", "submit many empty calls that count themselves done, each pool as "
     "its users call it (weft: no future, a future released at once, futures kept)"),
    ("thread.start_join", "start a thread that returns at once, then join it"),
    ("local.get", "read a thread-local value"),
    ("local.set", "write a thread-local value"),
    ("spawn.small", "spawn a program and wait for it, from a small parent"),
    ("spawn.large", "spawn a program and wait for it, from a parent that touched 2 GiB"),
    ("conn.roundtrip.8", "a parent sends 8 bytes, a fork child sends them back"),
    ("conn.roundtrip.8.cpu", "the same, CPU time of both processes per round trip"),
    ("conn.roundtrip.4k", "a parent sends 4 KiB, a fork child sends them back"),
    ("conn.roundtrip.4k.cpu", "the same, CPU time of both processes per round trip"),
    ("conn.roundtrip.64k", "a parent sends 64 KiB, a fork child sends them back"),
    ("conn.roundtrip.64k.cpu", "the same, CPU time of both processes per round trip"),
    ("conn.throughput.1m", "a parent sends 1 MiB messages one way to a fork child"),
    ("conn.throughput.1m.cpu", "the same, CPU time of both processes per message"),
    ("conn.throughput.64", "a parent sends 64-byte messages one way to a fork child"),
    ("conn.throughput.64.cpu", "the same, CPU time of both processes per message"),
    ("plock.uncontended", "uncontended acquire + release of a lock between processes, "
     "one process"),
    ("plock.contended.2proc", "2 processes hammer one lock between processes, time per "
     "operation"),
    ("plock.contended.2proc.cpu", "the same, CPU time of both processes per operation"),
    ("pqueue.roundtrip.8", "a parent puts 8 bytes into a process queue, a fork child gets "
     "them and puts them into a second one, the parent gets them"),
    ("pqueue.roundtrip.8.cpu", "the same, CPU time of both processes per round trip"),
    ("pqueue.throughput.64", "a parent puts 64-byte messages into a process queue, a fork "
     "child gets them"),
    ("pqueue.throughput.64.cpu", "the same, CPU time of both processes per message"),
]
DESCRIPTION = dict(FAMILIES)

# Why weft is slower than its best competitor where it is, as far as that
# is known: by family, a family's ".cpu" rows sharing its entry. RESULTS.md
# quotes the entry of every family that came out slower in some regime;
# one without an entry says so, so that a new loss never goes unexplained
# silently. Causes only: the figures are in the tables and change from run
# to run.
CONN_ON_SOCKETS = (
    "weft_conn runs on socket pairs, whose send costs the kernel more than a pipe's "
    "write; weft keeps them because they never raise SIGPIPE and are faster at the "
    "other sizes here. Compare with the pipe whose writer masks SIGPIPE, as a "
    "library on pipes must.")
SPAWN_UNEXPLAINED = (
    "not yet explained: weft_popen_start starts the child with posix_spawn and "
    "closes the same descriptors as posix_spawn+closefrom.")
LOSS_REASONS = {
    "lock.uncontended":
        "weft's acquire checks its handle and its timeout, and both calls check whether "
        "the process has only ever had one thread (the check that makes "
        "lock.uncontended.single fast); the bare futex lock checks nothing.",
    "lock.contended.2":
        "the bare futex lock and GLib's GMutex park the loser at once; weft's contender "
        "spins and yields a while first (src/sync/lock.c says why). Beside busy "
        "processes that CPU time can be the holder's.",
    "rlock.uncontended.single":
        "no cause found: in a process with one thread weft's RLock, like pthread's "
        "recursive mutex, takes its word with plain loads and stores.",
    "thread.start_join":
        "a weft thread names itself and reads its native id when it starts, as Python "
        "3.14's threads do, and has a handle to allocate; compare it with the rows that "
        "name themselves (pthread+name+tid, GLib GThread named).",
    "spawn.small": SPAWN_UNEXPLAINED,
    "spawn.large": SPAWN_UNEXPLAINED,
    "conn.roundtrip.8": CONN_ON_SOCKETS,
    "conn.roundtrip.4k": CONN_ON_SOCKETS,
    "conn.throughput.64": CONN_ON_SOCKETS,
    "plock.uncontended":
        "weft_plock is a robust, error-checking process-shared mutex: the next acquirer "
        "learns that a holder died (WEFT_EOWNERDEAD), and a second acquire by the holder "
        "or a release by another is refused. The plain process-shared pthread mutex "
        "promises none of this (a dead holder leaves it locked for ever); against the "
        "robust one, the difference is what weft's call adds around the mutex (not "
        "measured apart).",
    "plock.contended.2proc":
        "against the plain process-shared pthread mutex, as for plock.uncontended. "
        "Against the robust one: weft's contender retries through growing pauses before "
        "it parks, while its spin score says spins pay (weft__plock_spin in "
        "src/ipc/plock.c), where glibc's mutexes park at once. Each retry takes the "
        "lock's cache line from the holder, so weft's time follows the spin round "
        "trip of the regime, and it loses where a line moves slowly.",
}

# The libraries the benches compare weft with, as pkg-config knows them.
PKG_MODULES = ["glib-2.0", "gthread-2.0", "libuv", "apr-1", "apr-util-1"]

# Header lines worth a column of their own in the inputs table.
HEADER_KEYS = ["command", "build", "library", "machine"]

TITLE_RE = re.compile(r"^weft (\S+): ")
HEADER_RE = re.compile(r"^([a-z][a-z0-9 _-]*):(?:\s+(.*))?$")

NO_REGIME = "regime not measured"

# The @regime fields shown in the regimes table: key, heading.
REGIME_FIELDS = [("spin_rt_ns", "spin round trip CPU 0↔1, ns"),
                 ("wait_rt_1cpu_ns", "wait round trip, one CPU, ns"),
                 ("wait_rt_2cpu_ns", "wait round trip, two CPUs, ns"),
                 ("others_busy_cpus", "CPUs other processes kept busy"),
                 ("loadavg", "loadavg")]


def is_reference(competitor):
    """Python's rows are a reference, not a C library weft competes with."""
    return competitor.startswith("Python ")


def is_comparable(competitor):
    """Whether a row offers weft's semantics, so that it may be the best
    competitor: not weft's own variants (weft_run), and not the rows a
    bench marks as hand-rolled references or as doing less than weft
    ("(ref)"; "(fds left open)": a spawn that leaks descriptors;
    "(unnamed)": a thread with no OS-visible name)."""
    return not (competitor.startswith("weft") or is_reference(competitor) or
                any(mark in competitor for mark in ("(ref)", "(fds left open)", "(unnamed)")))


def fmt(x):
    """A value with about four significant digits, never in e-notation."""
    a = abs(x)
    if a >= 1000:
        return "%.0f" % x
    if a >= 100:
        return "%.1f" % x
    if a >= 10:
        return "%.2f" % x
    if a >= 0.01 or a == 0:
        return "%.3f" % x
    return "%.2g" % x


def md_cell(text):
    """Text for a Markdown table cell: no table or HTML syntax."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("|", "\\|").replace("\n", " "))


# ---- Reading the outputs -----------------------------------------------------


class Run:
    """One bench's output: its name, header lines and @result rows."""

    def __init__(self, path, name):
        self.path = path
        self.name = name
        self.title = ""
        self.header = {}        # key -> text, continuation lines joined
        self.header_lines = []  # the header block, verbatim
        self.in_header = True
        self.results = []
        self.malformed = []     # (line number, line)
        self.regime = None      # the @regime fields, key -> text

    def label(self):
        return self.name

    def regime_name(self):
        """"pinned, quiet": the placement and the label of the run's
        regime, with "(measured busy)" when the label says quiet but the
        bench found other processes busy, so such figures are never shown
        as quiet ones; NO_REGIME when it printed none."""
        if self.regime is None:
            return NO_REGIME
        label = self.regime.get("label", "unlabelled")
        if label == "quiet" and self.regime.get("load") == "busy":
            label += " (measured busy)"
        return "%s, %s" % (self.regime.get("placement", "placement?"), label)

    def regime_warning(self):
        """Why the regime is not what its label says, or ""."""
        if self.regime is None:
            return ""
        label, load = self.regime.get("label", ""), self.regime.get("load", "")
        if label == "quiet" and load == "busy":
            return "labelled quiet, but other processes kept %s CPUs busy" % (
                self.regime.get("others_busy_cpus", "?"))
        if label in ("external-load",) and load == "quiet":
            return "labelled %s, but other processes kept only %s CPUs busy" % (
                label, self.regime.get("others_busy_cpus", "?"))
        return ""


class Row:
    def __init__(self, run, family, competitor, med, lo, hi, unit, better):
        self.run = run
        self.family = family
        self.competitor = competitor
        self.median = med
        self.lo = lo
        self.hi = hi
        self.unit = unit
        self.higher = better == "higher"
        self.weft = None  # the weft row this row is compared with


def parse_result(fields):
    """The fields of an @result line, or None when it is malformed."""
    if len(fields) != 8 or fields[7] not in ("lower", "higher"):
        return None
    if not fields[1] or not fields[2] or not fields[6]:
        return None
    try:
        values = [float(f) for f in fields[3:6]]
    except ValueError:
        return None
    if not all(math.isfinite(v) for v in values):
        return None
    return fields[1], fields[2], values[0], values[1], values[2], fields[6], fields[7]


def read_runs(path):
    """The runs in one output file: a line "weft NAME: ..." starts a run
    (every bench prints one first); lines before any such line belong to a
    run named after the file."""
    runs = []
    stem = os.path.splitext(os.path.basename(path))[0]
    current = None
    last_key = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, raw in enumerate(f, 1):
            line = raw.rstrip("\r\n")
            title = TITLE_RE.match(line)
            if title:
                current = Run(path, title.group(1))
                current.title = line
                current.header_lines.append(line)
                runs.append(current)
                last_key = None
                continue
            if current is None:
                current = Run(path, stem)
                runs.append(current)
            if line.startswith("@regime"):
                fields = dict(f.split("=", 1) for f in line.split("\t")[1:] if "=" in f)
                if current.regime is None and fields:
                    current.regime = fields
                elif not fields:
                    current.malformed.append((number, line))
                continue
            if line.startswith("@result"):
                parsed = parse_result(line.split("\t"))
                if parsed is None:
                    current.malformed.append((number, line))
                else:
                    current.results.append(Row(current, *parsed))
                continue
            if not current.in_header:
                continue
            if not line.strip():
                if current.header_lines and len(current.header_lines) > 1:
                    current.in_header = False
                continue
            header = HEADER_RE.match(line)
            if header:
                last_key = header.group(1)
                if last_key in current.header:
                    last_key = None  # a key said twice: keep the first
                else:
                    current.header[last_key] = (header.group(2) or "").strip()
                current.header_lines.append(line)
            elif last_key and line.startswith(" "):
                current.header[last_key] = (current.header[last_key] + " " + line.strip()).strip()
                current.header_lines.append(line)
            else:
                last_key = None
                current.header_lines.append(line)
    # Lines before the first title that say nothing (comments, a shell's
    # echo) are not a run of their own.
    runs = [r for r in runs if r.title or r.header or r.results or r.malformed] or [Run(path, stem)]
    return runs


# ---- Comparing -----------------------------------------------------------------


def speed_of_weft(row):
    """How many times faster weft is than `row` (>1: weft faster), against
    the weft row it is compared with; None when they cannot be compared."""
    w = row.weft
    if w is None or w.unit != row.unit or w.higher != row.higher:
        return None
    if row.higher:
        return w.median / row.median if row.median > 0 else None
    return row.median / w.median if w.median > 0 else None


class Family:
    """One family in one regime."""

    def __init__(self, name, regime):
        self.name = name
        self.regime = regime
        self.rows = []
        self.weft = None

    def title(self):
        return "%s [%s]" % (self.name, self.regime)

    def link(self):
        """Pick the weft row each row is compared with: the one measured in
        the same run when there is one, else the family's first. A family
        with several weft rows and none named "weft" (executor.asused:
        weft forget, released, kept) is compared with its first one."""
        names = [r.competitor for r in self.rows if r.competitor.startswith("weft")]
        primary = "weft" if "weft" in names else (names[0] if names else "weft")
        wefts = [r for r in self.rows if r.competitor == primary]
        self.weft = wefts[0] if wefts else None
        by_run = {}
        for w in wefts:
            by_run.setdefault(id(w.run), w)
        for r in self.rows:
            r.weft = by_run.get(id(r.run), self.weft)

    def others(self):
        return [r for r in self.rows if r is not self.weft]

    def best(self):
        """The fastest row with weft's semantics (is_comparable), with
        weft's speed relative to it; (None, None) when there is none."""
        candidates = [(speed_of_weft(r), r) for r in self.others()
                      if is_comparable(r.competitor)]
        candidates = [(s, r) for s, r in candidates if s is not None]
        if not candidates:
            return None, None
        speed, row = min(candidates, key=lambda c: c[0])
        return row, speed

    def reference(self):
        refs = [(speed_of_weft(r), r) for r in self.rows if is_reference(r.competitor)]
        refs = [(s, r) for s, r in refs if s is not None]
        return min(refs, key=lambda c: c[0]) if refs else (None, None)

    def unit_text(self):
        units = sorted({r.unit for r in self.rows})
        better = sorted({"higher" if r.higher else "lower" for r in self.rows})
        return "%s, %s is better" % ("/".join(units), "/".join(better))


def collect(runs):
    """The families, one per family name and regime, in report order (the
    families in FAMILIES order, then the others by name; within a family,
    the regimes in the order they were first seen). Reference rows are set
    beside weft's of the regimes whose load they were measured under: those
    of a run with a regime go into every regime of their family with the
    same label (whatever the placement: python_ref.py does not pin), those
    of a run without one into every regime of their family."""
    families = {}
    regimes = []
    unplaced = []  # (row, label): label None for a run without a regime
    for run in runs:
        regime = run.regime_name()
        for row in run.results:
            if is_reference(row.competitor):
                unplaced.append((row, run.regime.get("label") if run.regime else None))
                continue
            if regime not in regimes:
                regimes.append(regime)
            families.setdefault((row.family, regime), Family(row.family, regime)).rows.append(row)
    labels = {run.regime_name(): run.regime.get("label") for run in runs if run.regime}
    for row, label in unplaced:
        homes = [f for (name, regime), f in families.items()
                 if name == row.family and (label is None or labels.get(regime) == label)]
        if not homes:
            regime = row.run.regime_name()
            if regime not in regimes:
                regimes.append(regime)
            homes = [families.setdefault((row.family, regime), Family(row.family, regime))]
        for fam in homes:
            # A copy in each: link() sets a row's weft row, which is the
            # regime's own.
            fam.rows.append(copy.copy(row))
    for fam in families.values():
        fam.link()
    names = {name for name, _ in families}
    order = [name for name, _ in FAMILIES if name in names]
    order += sorted(name for name in names if name not in DESCRIPTION)
    return [families[(n, r)] for n in order for r in regimes if (n, r) in families]


# ---- The environment -------------------------------------------------------------


def run_quiet(argv):
    try:
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              universal_newlines=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def pkg_versions():
    if run_quiet(["pkg-config", "--version"]) is None:
        return [(m, "pkg-config not found") for m in PKG_MODULES]
    return [(m, run_quiet(["pkg-config", "--modversion", m]) or "not found") for m in PKG_MODULES]


def uname_text():
    u = platform.uname()
    return " ".join(p for p in (u.system, u.release, u.version, u.machine) if p)


def repo_relative(path, root):
    full = os.path.abspath(path)
    try:
        rel = os.path.relpath(full, root)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


# ---- RESULTS.md ------------------------------------------------------------------


def ranges_overlap(a, b):
    """Whether the ranges of the repetitions of rows a and b overlap, so
    that the difference of their medians may be noise."""
    return not (a.hi < b.lo or b.hi < a.lo)


def verdict(speed, weft, best):
    if speed is None:
        return ""
    text = "weft at least as fast" if speed >= 1.0 else "**WEFT SLOWER**"
    return text + (" (ranges overlap)" if ranges_overlap(weft, best) else "")


def short_verdict(fam):
    """A cell of the verdict table: weft's speed against the best
    competitor and whether it is at least as fast."""
    best, speed = fam.best()
    if fam.weft is None:
        return "no weft row"
    if best is None:
        return "no competitor"
    return "%.2f× %s%s" % (speed, "ok" if speed >= 1.0 else "**SLOWER**",
                           " (ranges overlap)" if ranges_overlap(best.weft, best) else "")


def write_losses(add, families):
    """Every family slower than its best competitor in some regime: where,
    against which competitor, and why (LOSS_REASONS)."""
    slower = {}
    for fam in families:
        best, speed = fam.best()
        if fam.weft is not None and best is not None and speed < 1.0:
            slower.setdefault(fam.name, []).append((fam.regime, best, speed))
    add("### Where weft loses, and why")
    add("")
    if not slower:
        add("weft is at least as fast as the best competitor in every family and regime.")
        add("")
        return
    add("Each family in which weft is slower than the best competitor in some regime: "
        "there, weft's speed against that competitor, and the cause as far as it is known "
        "(`LOSS_REASONS` in bench/report.py).")
    add("")
    for name, cells in slower.items():
        where = "; ".join("%s: %.2f× %s%s" % (
            regime, speed, md_cell(best.competitor),
            ", ranges overlap" if ranges_overlap(best.weft, best) else "")
            for regime, best, speed in cells)
        reason = LOSS_REASONS.get(name[:-len(".cpu")] if name.endswith(".cpu") else name,
                                  "**no cause on record** (`LOSS_REASONS` in bench/report.py): "
                                  "find it before quoting these figures.")
        add("- **%s** (%s): %s" % (name, where, reason))
    add("")


def write_regimes(add, runs, families):
    """The regimes section: what each run measured of its regime, and the
    verdict per family per regime."""
    add("## Regimes")
    add("")
    add("Every bench measures its regime before its first figure (bench/bench_regime.h): "
        "the placement of its threads, the label ci/bench.sh gave the run, the spin-only "
        "round trip of a cache line between CPU 0 and CPU 1, the round trip through the "
        "platform's wait (futex on Linux) with both threads on one CPU and on two, and "
        "the CPUs other processes kept busy while the bench sat idle. The same code can be "
        "several times faster or slower from one regime to another: read every figure "
        "below with its regime.")
    add("")
    add("| run | regime | %s | measured load | note |"
        % " | ".join(heading for _, heading in REGIME_FIELDS))
    add("|---|---|%s---|---|" % ("---:|" * len(REGIME_FIELDS)))
    for run in runs:
        fields = run.regime or {}
        add("| %s | %s | %s | %s | %s |" % (
            md_cell(run.label()), md_cell(run.regime_name()),
            " | ".join(md_cell(fields.get(k, "")) for k, _ in REGIME_FIELDS),
            md_cell(fields.get("load", "")), md_cell(run.regime_warning())))
    add("")
    regimes = []
    for fam in families:
        if fam.regime not in regimes:
            regimes.append(fam.regime)
    by_key = {(f.name, f.regime): f for f in families}
    names = []
    for fam in families:
        if fam.name not in names:
            names.append(fam.name)
    add("### Verdict per family and regime")
    add("")
    add("weft's speed against the best competitor of the same run (above 1.00× weft is "
        "faster); *ok* when weft is at least as fast, **SLOWER** when not, *(ranges overlap)* "
        "when the ranges of the repetitions overlap, so the difference may be noise; empty "
        "where the family did not run in that regime.")
    add("")
    add("| family | %s |" % " | ".join(md_cell(r) for r in regimes))
    add("|---|%s" % ("---|" * len(regimes)))
    for name in names:
        add("| %s | %s |" % (name, " | ".join(
            short_verdict(by_key[(name, r)]) if (name, r) in by_key else "" for r in regimes)))
    add("")
    write_losses(add, families)


def write_markdown(path, runs, families, args, root, now):
    out = []
    add = out.append
    inputs_text = ", ".join("`%s`" % repo_relative(p, root) for p in args.outputs)
    add("# weft benchmark results")
    add("")
    add("Written by `bench/report.py` on %s from %s; rerun `ci/bench.sh` rather than editing "
        "this file." % (now.strftime("%Y-%m-%d %H:%M UTC"), inputs_text))
    add("")
    add("Every competitor of a family runs in the same process as weft, interleaved with it "
        "and repeated; a row gives the median over the repetitions and their range. "
        "Python's rows (bench/python_ref.py, run separately, unpinned, under each load "
        "regime's load) are a reference: they are shown, marked *(reference)*, beside "
        "weft's of the regimes with the same load, but never count as the best competitor.")
    add("")

    write_regimes(add, runs, families)

    # The headline.
    charted = [f for f in families if f.weft is not None and f.best()[0] is not None]
    add("## Headline: weft against the best competitor per family and regime")
    add("")
    if charted:
        add("![weft's speed relative to the best competitor per family and regime](%s)"
            % args.svg_name)
        add("")
    add("*weft speed* is how many times faster weft is than the best competitor "
        "(for times best/weft, for rates weft/best): above 1.00 weft is faster. The last "
        "column is the same against Python's row, where there is one.")
    add("")
    add("| family | regime | weft | best competitor | its median | unit | weft speed | verdict | "
        "vs Python (reference) |")
    add("|---|---|---:|---|---:|---|---:|---|---:|")
    for fam in families:
        best, speed = fam.best()
        ref_speed, ref = fam.reference()
        ref_text = "%.2f× (%s)" % (ref_speed, ref.competitor) if ref else ""
        if fam.weft is None:
            add("| %s | %s | no weft row | | | %s | | | %s |"
                % (fam.name, md_cell(fam.regime), md_cell(fam.rows[0].unit), md_cell(ref_text)))
        elif best is None:
            add("| %s | %s | %s | no competitor | | %s | | | %s |"
                % (fam.name, md_cell(fam.regime), fmt(fam.weft.median), md_cell(fam.weft.unit),
                   md_cell(ref_text)))
        else:
            add("| %s | %s | %s | %s | %s | %s | %.2f× | %s | %s |"
                % (fam.name, md_cell(fam.regime), fmt(best.weft.median), md_cell(best.competitor), fmt(best.median),
                   md_cell(best.unit), speed, verdict(speed, best.weft, best),
                   md_cell(ref_text)))
    missing = [name for name, _ in FAMILIES if name not in {f.name for f in families}]
    add("")
    if missing:
        add("No results for: %s." % ", ".join("`%s`" % m for m in missing))
        add("")

    # Machine, date and versions.
    add("## Machine and versions")
    add("")
    add("- date: %s" % now.strftime("%Y-%m-%d %H:%M:%S UTC"))
    add("- uname: `%s`" % uname_text())
    python_builds = [r.header["build"] for r in runs if "build" in r.header
                     and r.name == "python_ref"]
    add("- Python: %s" % ("; ".join(sorted(set(python_builds))) if python_builds else
                          "python_ref.py was not run"))
    add("- report written with Python %s" % platform.python_version())
    add("- competitors' libraries (`pkg-config --modversion`, when the report was written): %s"
        % ", ".join("%s %s" % (m, v) for m, v in pkg_versions()))
    commit = run_quiet(["git", "-C", root, "rev-parse", "--short", "HEAD"])
    if commit:
        add("- weft source: commit %s (uncommitted changes are not detected)" % commit)
    add("")
    add("What each bench said about its build and the machine:")
    add("")
    add("| run | %s |" % " | ".join(HEADER_KEYS[1:]))
    add("|---|%s" % ("---|" * len(HEADER_KEYS[1:])))
    for run in runs:
        add("| %s | %s |" % (md_cell(run.label()), " | ".join(
            md_cell(run.header.get(k, "")) for k in HEADER_KEYS[1:])))
    add("")

    # Commands.
    add("## Commands")
    add("")
    for text in args.command:
        add("- how the outputs were made: `%s`" % text)
    for run in runs:
        if "command" in run.header:
            add("- %s: `%s`" % (run.label(), run.header["command"]))
    report_argv = ["python3", "bench/report.py"]
    for text in args.command:
        report_argv += ["--command", text]
    if args.out_dir_given:
        report_argv += ["--out-dir", repo_relative(args.out_dir, root)]
    report_argv += [repo_relative(p, root) for p in args.outputs]
    add("- this report: `%s`" % " ".join(shlex.quote(a) for a in report_argv))
    add("")

    # Inputs.
    add("## Inputs")
    add("")
    add("| file | run | @result lines | notes |")
    add("|---|---|---:|---|")
    for run in runs:
        notes = []
        if not run.results:
            notes.append("**emitted no @result lines**: its numbers are not in the tables")
        if run.malformed:
            notes.append("%d malformed @ line%s ignored (line %s)" % (
                len(run.malformed), "" if len(run.malformed) == 1 else "s",
                ", ".join(str(n) for n, _ in run.malformed[:5])))
        for key, text in run.header.items():
            if "skip" in key or "skipped" in text.lower():
                notes.append("%s: %s" % (key, text))
        add("| `%s` | %s | %d | %s |" % (repo_relative(run.path, root), md_cell(run.label()),
                                        len(run.results), md_cell("; ".join(notes))))
    add("")
    silent = [r for r in runs if not r.results]
    if silent:
        add("%s emitted no `@result` lines, so %s in none of the tables below "
            "(a bench from before bench_result(), or one that failed)."
            % (", ".join(r.label() for r in silent), "it is" if len(silent) == 1 else "they are"))
        add("")

    # One table per family.
    add("## Families")
    add("")
    add("*value / weft* is the competitor's median over weft's; *weft speed* is how many times "
        "faster weft is (above 1.00 weft is faster). A competitor is compared with the weft "
        "row of its own run; † marks one compared with weft from another run.")
    add("")
    if not families:
        add("No `@result` lines in any input: nothing to tabulate.")
        add("")
    for fam in families:
        add("### %s" % fam.title())
        add("")
        desc = DESCRIPTION.get(fam.name, "")
        add("%s%s (%s); regime: %s." % (desc[:1].upper(), desc[1:], fam.unit_text(),
                                        fam.regime) if desc
            else "(%s); regime: %s." % (fam.unit_text(), fam.regime))
        add("")
        add("| competitor | median | min–max | unit | value / weft | weft speed | run |")
        add("|---|---:|---:|---|---:|---:|---|")
        rows = sorted(fam.rows, key=lambda r: (
            r.competitor != "weft", is_reference(r.competitor),
            -(r.median if r.higher else -r.median)))
        for r in rows:
            name = r.competitor + (" *(reference)*" if is_reference(r.competitor) else "")
            if r.competitor == "weft":
                name = "**weft**"
            speed = speed_of_weft(r)
            if r.weft is None:
                ratio_text, speed_text = "no weft row", ""
            elif r is r.weft:
                ratio_text, speed_text = "1.00", "(weft)"
            elif speed is None:
                ratio_text = speed_text = "units differ"
            else:
                mark = "" if r.weft.run is r.run else " †"
                ratio_text = "%.2f%s" % (r.median / r.weft.median if r.weft.median else 0, mark)
                speed_text = "%.2f×%s" % (speed, mark)
            add("| %s | %s | %s–%s | %s | %s | %s | %s |" % (
                md_cell(name), fmt(r.median), fmt(r.lo), fmt(r.hi), md_cell(r.unit),
                ratio_text, speed_text, md_cell(r.run.label())))
        add("")

    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out).rstrip("\n") + "\n")
    return charted


# ---- results.svg -------------------------------------------------------------------

FONT = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, sans-serif"


def write_svg(path, families, now, machine):
    bars = []
    for fam in families:
        best, speed = fam.best()
        if fam.weft is not None and best is not None and speed > 0:
            bars.append((fam.name, fam.regime, best.competitor, speed))

    width = 900
    label_w = 310            # the family names and regimes, left
    value_w = 70             # the ratios, right
    x0, x1 = label_w, width - value_w
    top = 78
    row_h = 34
    bar_h = 16
    height = top + max(len(bars), 1) * row_h + 56

    speeds = [s for _, _, _, s in bars] or [1.0]
    lo = 2.0 ** math.floor(math.log2(min(min(speeds) / 1.1, 0.5)))
    hi = 2.0 ** math.ceil(math.log2(max(max(speeds) * 1.1, 2.0)))
    span = math.log2(hi) - math.log2(lo)

    def x(v):
        return x0 + (math.log2(v) - math.log2(lo)) / span * (x1 - x0)

    def text(xp, yp, s, size=13, anchor="start", fill="#24292f", weight="normal"):
        return ('<text x="%.1f" y="%.1f" font-size="%d" text-anchor="%s" fill="%s"%s>%s</text>'
                % (xp, yp, size, anchor, fill,
                   ' font-weight="bold"' if weight == "bold" else "", escape(s)))

    s = []
    s.append('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
             'viewBox="0 0 %d %d" font-family="%s">' % (width, height, width, height, FONT))
    s.append("<title>weft's speed relative to the best competitor per family and regime"
             "</title>")
    s.append('<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>' % (width, height))
    s.append(text(16, 26, "weft against the best competitor, per family and regime", 17,
                  weight="bold"))
    s.append(text(16, 46, "weft's speed relative to the fastest other C library in the same run "
                          "(log scale; right of 1× weft is faster)", 12, fill="#57606a"))

    # The grid: one line per power of two, fewer when the range is wide.
    step = 1 if span <= 8 else 2
    for k in range(int(round(math.log2(lo))), int(round(math.log2(hi))) + 1):
        if k % step:
            continue
        v = 2.0 ** k
        xp = x(v)
        s.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="%s"/>'
                 % (xp, top - 8, xp, top + len(bars) * row_h,
                    "#24292f" if abs(v - 1.0) < 1e-9 else "#d0d7de",
                    "1.5" if abs(v - 1.0) < 1e-9 else "1"))
        label = ("%g×" % v) if v >= 1 else ("1/%g×" % (1 / v))
        s.append(text(xp, top + len(bars) * row_h + 16, label, 11, "middle", "#57606a"))
    s.append(text((x0 + x1) / 2, top + len(bars) * row_h + 34,
                  "← weft slower   weft speed relative to the best competitor   weft faster →",
                  12, "middle", "#57606a"))

    if not bars:
        s.append(text(x0 + 8, top + row_h / 2 + 4,
                      "no family has both a weft row and a competitor yet", 13, fill="#57606a"))
    for i, (family, regime, competitor, speed) in enumerate(bars):
        y = top + i * row_h
        xa, xb = sorted((x(1.0), x(speed)))
        colour = "#2da44e" if speed >= 1.0 else "#cf222e"
        sub = "%s, vs %s" % (regime, competitor)
        short = sub if len(sub) <= 44 else sub[:43] + "…"
        s.append(text(label_w - 10, y + 14, family, 13, "end", weight="bold"))
        s.append(text(label_w - 10, y + 28, short, 11, "end", "#57606a"))
        s.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s"><title>%s</title>'
                 '</rect>' % (xa, y + (row_h - bar_h) / 2, max(xb - xa, 1.5), bar_h, colour,
                              escape("%s [%s]: weft %.2f× the speed of %s"
                                     % (family, regime, speed, competitor))))
        s.append(text(width - 12, y + 22, "%.2f×" % speed, 13, "end", colour, "bold"))
    footer = now.strftime("%Y-%m-%d") + (", " + machine if machine else "")
    s.append(text(width - 12, height - 8, footer, 10, "end", "#8c959f"))
    s.append("</svg>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(s) + "\n")
    # A chart that does not parse is a bug: say so here, not in a browser.
    ET.parse(path)
    return len(bars)


# ---- Main --------------------------------------------------------------------------


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(
        prog="report.py",
        description="Collect the @result lines of weft's benches (and python_ref.py) into "
                    "RESULTS.md and results.svg.")
    parser.add_argument("outputs", nargs="+", metavar="OUTPUT",
                        help="a saved output of a bench or of python_ref.py")
    parser.add_argument("--out-dir", metavar="DIR",
                        help="where RESULTS.md and results.svg go (default: %s)" % here)
    parser.add_argument("--command", action="append", default=[], metavar="TEXT",
                        help="how the outputs were made, for the report (repeatable)")
    args = parser.parse_args(argv)
    args.out_dir_given = args.out_dir is not None
    args.out_dir = args.out_dir or here
    args.svg_name = "results.svg"
    root = os.path.dirname(here)

    runs = []
    for path in args.outputs:
        try:
            runs += read_runs(path)
        except OSError as e:
            parser.error("cannot read %s: %s" % (path, e.strerror or e))
    for run in runs:
        for number, line in run.malformed:
            print("report.py: %s:%d: malformed line ignored: %r"
                  % (run.path, number, line), file=sys.stderr)
        if not run.results:
            print("report.py: %s (%s): no @result lines" % (run.path, run.label()),
                  file=sys.stderr)
    families = collect(runs)
    for fam in families:
        units = {(r.unit, r.higher) for r in fam.rows}
        if len(units) > 1:
            print("report.py: %s: rows disagree on the unit: %s" % (
                fam.name, ", ".join(sorted("%s (%s)" % (u, "higher" if h else "lower")
                                           for u, h in units))), file=sys.stderr)

    os.makedirs(args.out_dir, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    machines = [r.header["machine"] for r in runs if "machine" in r.header]
    machine = ", ".join(p for p in (machines[0].split(";")[0] if machines else "",
                                    platform.system(), platform.machine()) if p)
    md_path = os.path.join(args.out_dir, "RESULTS.md")
    svg_path = os.path.join(args.out_dir, args.svg_name)
    write_markdown(md_path, runs, families, args, root, now)
    nbars = write_svg(svg_path, families, now, machine)
    print("report.py: %d run%s, %d result%s in %d famil%s; wrote %s and %s (%d bar%s)" % (
        len(runs), "" if len(runs) == 1 else "s",
        sum(len(r.results) for r in runs), "" if sum(len(r.results) for r in runs) == 1 else "s",
        len(families), "y" if len(families) == 1 else "ies",
        md_path, svg_path, nbars, "" if nbars == 1 else "s"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
