#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""python_ref.py: Python 3's own threading, queue, concurrent.futures,
subprocess, multiprocessing.Pipe and multiprocessing.Queue, measured the way
the C benches measure weft, for reference.

weft gives C programs Python's concurrency model; this shows what the same
operations cost in Python itself. Every measured row also prints the
machine-readable line the C benches print (bench_result() in bench_util.h):

    @result<TAB>family<TAB>competitor<TAB>median<TAB>min<TAB>max<TAB>unit<TAB>better

which bench/report.py collects into bench/RESULTS.md. The numbers include
the interpreter's own cost (a loop iteration, a method call, the GIL's
hand-offs): they say what a Python program pays, not what the underlying
C primitive costs.

    python3 bench/python_ref.py            the full run (about 20 s)
    python3 bench/python_ref.py --smoke    a quick check, one repetition
    python3 bench/python_ref.py --help     the options

Standard library only; any Python 3.8 or later.
"""

import argparse
import gc
import multiprocessing
import os
import platform
import queue
import shlex
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

if sys.version_info < (3, 8):
    sys.exit("python_ref.py: needs Python 3.8 or later, this is " + platform.python_version())

LOCK = "Python threading.Lock"
QUEUE = "Python queue.Queue"
FUTURES = "Python concurrent.futures"
THREAD = "Python threading.Thread"
LOCAL = "Python threading.local"
SUBPROCESS = "Python subprocess.run"
PIPE = "Python multiprocessing.Pipe"
MPQUEUE = "Python multiprocessing.Queue"

# How much work one run does: (full, smoke).
SIZES = {
    "reps": (7, 1),
    "lock_ops": (1000000, 50000),
    "contended_ms": (200, 20),
    "queue_items": (40000, 2000),
    "queue_bound": (1024, 1024),
    "pool_tasks": (20000, 1000),
    "trips": (2000, 200),
    "starts": (500, 50),
    "local_gets": (1000000, 50000),
    "spawns": (40, 5),
    "pipe_trips": (2000, 100),
    "pipe_mib": (64, 4),
    "pipe_msgs": (20000, 1000),
}

perf = time.perf_counter


def noop():
    return None


# ---- The measurements ------------------------------------------------------
# Each returns the value of one run, or (value, fairness) for the contended
# lock: fewest / most operations of one thread.


def lock_uncontended(cfg):
    """acquire, increment a counter, release, in a loop: ns per operation."""
    lock = threading.Lock()
    acquire, release = lock.acquire, lock.release
    n = cfg.lock_ops
    counter = 0
    t0 = perf()
    for _ in range(n):
        acquire()
        counter += 1
        release()
    elapsed = perf() - t0
    if counter != n:
        raise SystemExit("python_ref.py: lock.uncontended: counter %d after %d operations" % (counter, n))
    return elapsed / n * 1e9


def lock_contended(nthreads):
    """nthreads threads hammer one Lock (acquire, increment a shared counter,
    release) for a fixed time: total Mops/s, and the fairness."""

    def run(cfg):
        lock = threading.Lock()
        stop = [False]
        counts = [0] * nthreads
        shared = [0]
        barrier = threading.Barrier(nthreads + 1)

        def worker(index):
            acquire, release = lock.acquire, lock.release
            done = 0
            barrier.wait()
            while not stop[0]:
                for _ in range(64):
                    acquire()
                    shared[0] += 1
                    release()
                done += 64
            counts[index] = done

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(nthreads)]
        for t in threads:
            t.start()
        barrier.wait()
        t0 = perf()
        time.sleep(cfg.contended_ms / 1000.0)
        stop[0] = True
        for t in threads:
            t.join()
        elapsed = perf() - t0
        total = sum(counts)
        if shared[0] != total:
            raise SystemExit("python_ref.py: lock.contended.%d: counter %d, but the threads did %d "
                             "operations" % (nthreads, shared[0], total))
        fairness = min(counts) / max(counts) if max(counts) else 0.0
        return total / elapsed / 1e6, fairness

    return run


def queue_throughput(pairs, bounded):
    """pairs producers put, pairs consumers get, through one queue.Queue:
    Mitems/s from the start barrier to the last join."""

    def run(cfg):
        q = queue.Queue(cfg.queue_bound if bounded else 0)
        per_thread = cfg.queue_items // pairs
        barrier = threading.Barrier(2 * pairs + 1)
        got = [0] * pairs

        def producer():
            put = q.put
            barrier.wait()
            for i in range(per_thread):
                put(i)

        def consumer(index):
            get = q.get
            barrier.wait()
            for _ in range(per_thread):
                get()
            got[index] = per_thread

        threads = [threading.Thread(target=producer) for _ in range(pairs)]
        threads += [threading.Thread(target=consumer, args=(i,)) for i in range(pairs)]
        for t in threads:
            t.start()
        barrier.wait()
        t0 = perf()
        for t in threads:
            t.join()
        elapsed = perf() - t0
        if sum(got) != per_thread * pairs or not q.empty():
            raise SystemExit("python_ref.py: queue: items lost or left over")
        return per_thread * pairs / elapsed / 1e6

    return run


def started_pool():
    """A ThreadPoolExecutor(2) whose two workers are both running (it starts
    them lazily, one per submit that finds none idle)."""
    pool = ThreadPoolExecutor(2)
    barrier = threading.Barrier(3)
    futures = [pool.submit(barrier.wait) for _ in range(2)]
    barrier.wait()
    for f in futures:
        f.result()
    return pool


def executor_roundtrip(cfg):
    """submit one empty call, wait for its result: us per round trip."""
    pool = started_pool()
    try:
        submit = pool.submit
        n = cfg.trips
        t0 = perf()
        for _ in range(n):
            submit(noop).result()
        elapsed = perf() - t0
    finally:
        pool.shutdown()
    return elapsed / n * 1e6


def executor_throughput(cfg):
    """submit n empty calls, then wait for every result: Mcalls/s."""
    pool = started_pool()
    try:
        submit = pool.submit
        n = cfg.pool_tasks
        t0 = perf()
        futures = [submit(noop) for _ in range(n)]
        for f in futures:
            f.result()
        elapsed = perf() - t0
    finally:
        pool.shutdown()
    return n / elapsed / 1e6


def thread_start_join(cfg):
    """threading.Thread(target=noop).start() then join(), one after the
    other: us per thread."""
    n = cfg.starts
    Thread = threading.Thread
    t0 = perf()
    for _ in range(n):
        t = Thread(target=noop)
        t.start()
        t.join()
    elapsed = perf() - t0
    return elapsed / n * 1e6


def local_get(cfg):
    """read an attribute of a threading.local that holds a value: ns per
    read, the loop included."""
    local = threading.local()
    local.value = 1
    n = cfg.local_gets
    t0 = perf()
    for _ in range(n):
        local.value
    elapsed = perf() - t0
    return elapsed / n * 1e9


def empty_loop(cfg):
    """The loop alone, for the note under the table (not a result)."""
    n = cfg.local_gets
    t0 = perf()
    for _ in range(n):
        pass
    return (perf() - t0) / n * 1e9


def spawn_small(cfg):
    """subprocess.run(['true']) from this (small) interpreter: ms per child."""
    n = cfg.spawns
    t0 = perf()
    for _ in range(n):
        subprocess.run(["true"], check=True)
    elapsed = perf() - t0
    return elapsed / n * 1e3


class Sample:
    """A run's value with the CPU time per operation of every process it
    used; main() reports the CPU time as the family "<family>.cpu"."""

    def __init__(self, value, cpu):
        self.value = value
        self.cpu = cpu


# multiprocessing.Pipe and multiprocessing.Queue, as bench_ipc measures
# weft_conn and weft_pqueue: a fork child (where the platform has fork)
# echoes the first message, then echoes every message (ECHO) or only reads
# it (SINK) until an empty one, and answers that with the CPU seconds its
# loop took. Python's Connection frames each message with a length itself
# (send_bytes / recv_bytes); a Queue pickles the bytes object, as it does
# whatever a program puts.
ECHO, SINK = 0, 1


class QueueEnd:
    """One process's side of two multiprocessing.Queues, one each way, with
    a Connection's calls, so that the Pipe's child and loops drive it as
    they are (as bench_ipc passes two weft_pqueues)."""

    def __init__(self, inq, outq):
        self.inq, self.outq = inq, outq

    def send_bytes(self, m):
        self.outq.put(m)

    def recv_bytes(self):
        return self.inq.get()

    def close(self):
        """Nothing: both processes keep using the queues, and a Queue's
        feeder thread is flushed when its process ends."""


def pipe_ends(ctx):
    return ctx.Pipe(duplex=True)


def queue_ends(ctx):
    to_child, to_parent = ctx.Queue(), ctx.Queue()
    return QueueEnd(to_parent, to_child), QueueEnd(to_child, to_parent)


def pipe_child(conn, mode):
    m = conn.recv_bytes()
    conn.send_bytes(m)
    cpu0 = time.process_time()
    while True:
        m = conn.recv_bytes()
        if not m:
            break
        if mode == ECHO:
            conn.send_bytes(m)
    conn.send_bytes(repr(time.process_time() - cpu0).encode())
    conn.close()


def pipe_context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def pipe_run(ends, mode, loop):
    """Start the child with the other of the ends(ctx) made (a Pipe's or
    two Queues'), time loop(conn) and the child's last answer: the wall
    seconds and the CPU seconds of both processes."""
    ctx = pipe_context()
    mine, theirs = ends(ctx)
    child = ctx.Process(target=pipe_child, args=(theirs, mode))
    child.start()
    theirs.close()
    mine.send_bytes(b"hello")
    if mine.recv_bytes() != b"hello":
        raise SystemExit("python_ref.py: the child's greeting came back wrong")
    t0, cpu0 = perf(), time.process_time()
    loop(mine)
    mine.send_bytes(b"")
    child_cpu = float(mine.recv_bytes())
    wall, cpu = perf() - t0, time.process_time() - cpu0 + child_cpu
    child.join()
    mine.close()
    if child.exitcode != 0:
        raise SystemExit("python_ref.py: the child ended with code %s" % child.exitcode)
    return wall, cpu


def pipe_roundtrip(size, ends=pipe_ends):
    """send_bytes (put) of `size` bytes, the child sends them back,
    recv_bytes (get): us per round trip (a quarter as many trips at 64 KiB,
    as bench_ipc)."""

    def run(cfg):
        n = cfg.pipe_trips if size <= 4096 else max(cfg.pipe_trips // 4, 1)
        msg = b"x" * size

        def loop(conn):
            send, recv = conn.send_bytes, conn.recv_bytes
            for _ in range(n):
                send(msg)
                if len(recv()) != size:
                    raise SystemExit("python_ref.py: a round trip came back wrong")

        wall, cpu = pipe_run(ends, ECHO, loop)
        return Sample(wall / n * 1e6, cpu / n * 1e6)

    return run


def pipe_throughput(size, ends=pipe_ends):
    """send_bytes (put) of `size`-byte messages one way, the child reads
    each: MiB/s for 1 MiB messages, thousands of messages/s for small
    ones."""

    def run(cfg):
        small = size < 4096
        n = cfg.pipe_msgs if small else cfg.pipe_mib
        msg = b"x" * size

        def loop(conn):
            send = conn.send_bytes
            for _ in range(n):
                send(msg)

        wall, cpu = pipe_run(ends, SINK, loop)
        value = n / wall / 1e3 if small else n * size / wall / 1048576.0
        return Sample(value, cpu / n * 1e9)

    return run


# (family, competitor, unit, higher is better, function[, CPU unit]); the
# order of the table. A row with a CPU unit returns a Sample and also
# reports "<family>.cpu". The empty loop has no family: it is printed as a
# note only.
MEASUREMENTS = [
    ("lock.uncontended", LOCK, "ns/op", False, lock_uncontended),
    ("lock.contended.2", LOCK, "Mops/s", True, lock_contended(2)),
    ("lock.contended.8", LOCK, "Mops/s", True, lock_contended(8)),
    ("queue.bounded.1p1c", QUEUE, "Mitems/s", True, queue_throughput(1, True)),
    ("queue.bounded.2p2c", QUEUE, "Mitems/s", True, queue_throughput(2, True)),
    ("queue.bounded.4p4c", QUEUE, "Mitems/s", True, queue_throughput(4, True)),
    ("queue.unbounded.1p1c", QUEUE, "Mitems/s", True, queue_throughput(1, False)),
    ("queue.unbounded.2p2c", QUEUE, "Mitems/s", True, queue_throughput(2, False)),
    ("queue.unbounded.4p4c", QUEUE, "Mitems/s", True, queue_throughput(4, False)),
    ("executor.roundtrip", FUTURES, "us", False, executor_roundtrip),
    ("executor.throughput", FUTURES, "Mcalls/s", True, executor_throughput),
    ("thread.start_join", THREAD, "us", False, thread_start_join),
    ("local.get", LOCAL, "ns", False, local_get),
    ("spawn.small", SUBPROCESS, "ms", False, spawn_small),
    ("conn.roundtrip.8", PIPE, "us", False, pipe_roundtrip(8), "CPU us"),
    ("conn.roundtrip.4k", PIPE, "us", False, pipe_roundtrip(4096), "CPU us"),
    ("conn.roundtrip.64k", PIPE, "us", False, pipe_roundtrip(65536), "CPU us"),
    ("conn.throughput.1m", PIPE, "MiB/s", True, pipe_throughput(1 << 20), "CPU ns/msg"),
    ("conn.throughput.64", PIPE, "kmsg/s", True, pipe_throughput(64), "CPU ns/msg"),
    ("pqueue.roundtrip.8", MPQUEUE, "us", False, pipe_roundtrip(8, queue_ends), "CPU us"),
    ("pqueue.throughput.64", MPQUEUE, "kmsg/s", True, pipe_throughput(64, queue_ends),
     "CPU ns/msg"),
    (None, "(empty loop)", "ns", False, empty_loop),
]


# ---- Statistics and output ---------------------------------------------------


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2.0


def fmt_value(x):
    """Like the C tables: three decimals under 100, fewer above."""
    if x >= 1000:
        return "%.0f" % x
    if x >= 100:
        return "%.1f" % x
    return "%.3f" % x


def result_line(family, competitor, values, unit, higher):
    """The line bench_result() prints, byte for byte (%.6g)."""
    return "@result\t%s\t%s\t%.6g\t%.6g\t%.6g\t%s\t%s" % (
        family, competitor, median(values), min(values), max(values), unit,
        "higher" if higher else "lower")


def cpus_usable():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 0


def gil_text():
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    if is_enabled is None:
        return "with the GIL"
    return "GIL enabled" if is_enabled() else "free-threaded, GIL disabled"


# Other processes that keep fewer CPUs than this busy leave the machine
# quiet (bench_regime.h's BENCH_REGIME_QUIET_CPUS).
QUIET_CPUS = 0.3


def cpu_ticks():
    """/proc/stat's "cpu" line: (busy, total) ticks, or None off Linux."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    total = sum(v[:8])
    return total - v[3] - v[4], total


def others_busy(seconds):
    """The CPUs other processes kept busy while this one slept for
    `seconds` (as bench_regime.h measures it), or None where /proc/stat is
    missing."""
    first, own = cpu_ticks(), time.process_time()
    time.sleep(seconds)
    last, own = cpu_ticks(), time.process_time() - own
    if first is None or last is None or last[1] <= first[1]:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    busy = (last[0] - first[0]) - own * ticks
    return max(busy, 0.0) / (last[1] - first[1]) * (os.cpu_count() or 1)


def regime_line(label, smoke, reps):
    """The @regime line (see bench_regime.h) of this run: Python leaves its
    threads to the scheduler, and measures only the load of others; the
    label is --regime's, else "quiet" or "busy" from that load."""
    busy = others_busy(0.02 if smoke else 0.25)
    loaded = "na" if busy is None else "quiet" if busy < QUIET_CPUS else "busy"
    try:
        loadavg = "%.2f" % os.getloadavg()[0]
    except OSError:
        loadavg = "na"
    return "@regime\tlabel=%s\tplacement=unpinned\tcpus=%d\tothers_busy_cpus=%s\tloadavg=%s" \
           "\tload=%s\truns=%d" % (label or ("busy" if loaded == "busy" else "quiet"),
                                    cpus_usable(), "na" if busy is None else "%.2f" % busy,
                                    loadavg, loaded, reps)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python_ref.py",
        description="Python 3 reference for weft's benches: threading.Lock, queue.Queue, "
                    "concurrent.futures.ThreadPoolExecutor, threading.Thread, threading.local, "
                    "subprocess.run, multiprocessing.Pipe and multiprocessing.Queue, with the "
                    "@result lines "
                    "bench/report.py reads.")
    parser.add_argument("--smoke", action="store_true",
                        help="a quick check: one repetition, short runs (a few seconds)")
    parser.add_argument("--reps", type=int, metavar="N",
                        help="repetitions (default %d, --smoke %d; env WEFT_BENCH_REPS)"
                             % SIZES["reps"])
    parser.add_argument("--only", metavar="PREFIX", action="append", default=[],
                        help="only the families that start with PREFIX (repeatable), "
                             "e.g. --only queue.bounded")
    parser.add_argument("--regime", metavar="NAME",
                        default=os.environ.get("WEFT_BENCH_REGIME", ""),
                        help="the label of this run's regime (ci/bench.sh: quiet, "
                             "external-load; default: quiet or busy, from the load measured "
                             "first; env WEFT_BENCH_REGIME): report.py sets Python's rows "
                             "beside weft's of the regimes with this label")
    args = parser.parse_args(argv)
    which = 1 if args.smoke else 0
    for key, pair in SIZES.items():
        setattr(args, key if key != "reps" else "default_reps", pair[which])
    if args.reps is None:
        env = os.environ.get("WEFT_BENCH_REPS", "")
        args.reps = int(env) if env.isdigit() else args.default_reps
    if not 1 <= args.reps <= 1000:
        parser.error("--reps: expected an integer from 1 to 1000")
    return args


def main(argv):
    cfg = parse_args(argv)
    started = perf()
    chosen = [m for m in MEASUREMENTS
              if m[0] is None or not cfg.only or any(m[0].startswith(p) for p in cfg.only)]
    if all(m[0] is None for m in chosen):
        raise SystemExit("python_ref.py: --only matches no family")

    env = os.environ.get("WEFT_BENCH_REPS", "")
    command = ("WEFT_BENCH_REPS=%s " % shlex.quote(env) if env else "") + " ".join(
        shlex.quote(a) for a in [os.path.basename(sys.executable) or "python3"] + sys.argv)
    uname = platform.uname()
    print("weft python_ref: Python 3's threading, queue, concurrent.futures, subprocess, "
          "multiprocessing.Pipe and multiprocessing.Queue, for reference")
    print("command:  %s" % command)
    print("settings: %d repetition%s; lock %d ops uncontended, %d ms contended with 2, 8 threads;"
          % (cfg.reps, "" if cfg.reps == 1 else "s", cfg.lock_ops, cfg.contended_ms))
    print("          queue %d items per run, bounded to %d or unbounded, 1P/1C, 2P/2C, 4P/4C;"
          % (cfg.queue_items, cfg.queue_bound))
    print("          executor (2 workers) %d tasks per throughput run, %d round trips;"
          % (cfg.pool_tasks, cfg.trips))
    print("          %d thread starts, %d local reads, %d spawns per run;"
          % (cfg.starts, cfg.local_gets, cfg.spawns))
    print("          Pipe (a %s child) %d round trips (%d at 64 KiB), %d MiB in 1 MiB messages, "
          "%d 64-byte messages per run;"
          % (pipe_context().get_start_method(), cfg.pipe_trips, max(cfg.pipe_trips // 4, 1),
             cfg.pipe_mib, cfg.pipe_msgs))
    print("          Queue (two, one each way, unbounded) the same %d round trips of 8 bytes and "
          "%d 64-byte messages per run" % (cfg.pipe_trips, cfg.pipe_msgs))
    print("build:    %s %s (%s), %s, switch interval %g ms"
          % (platform.python_implementation(), platform.python_version(),
             platform.python_compiler(), gil_text(), sys.getswitchinterval() * 1e3))
    print("library:  the standard library of %s" % sys.executable)
    print("machine:  %d CPUs usable; %s %s %s" % (cpus_usable(), uname.system, uname.release,
                                                 uname.machine))
    print("order:    each repetition runs every measurement once, the first one rotating")
    print(regime_line(cfg.regime, cfg.smoke, cfg.reps))
    sys.stdout.flush()

    values = [[] for _ in chosen]
    fairness = [[] for _ in chosen]
    cpu = [[] for _ in chosen]
    for rep in range(cfg.reps):
        for k in range(len(chosen)):
            i = (rep + k) % len(chosen)
            gc.collect()
            got = chosen[i][4](cfg)
            if isinstance(got, tuple):
                values[i].append(got[0])
                fairness[i].append(got[1])
            elif isinstance(got, Sample):
                values[i].append(got.value)
                cpu[i].append(got.cpu)
            else:
                values[i].append(got)

    # The rows: each measurement's, then its CPU time's where it has one.
    rows = []
    for m, v, f, c in zip(chosen, values, fairness, cpu):
        rows.append((m[0], m[1], m[2], m[3], v, f))
        if len(m) > 5:
            rows.append((m[0] + ".cpu", m[1], m[5], False, c, []))

    print()
    print("Python reference: median, min and max over the repetitions")
    print("  fairness = fewest / most operations of one thread (1.00 = even): median (min-max)")
    print("%-22s %-28s %10s %10s %10s  %-9s %-6s  %s"
          % ("family", "competitor", "median", "min", "max", "unit", "better", "fairness"))
    loop_ns = None
    for family, competitor, unit, higher, v, f in rows:
        if family is None:
            loop_ns = median(v)
            continue
        fair = ("%.2f (%.2f-%.2f)" % (median(f), min(f), max(f))) if f else ""
        print("%-22s %-28s %10s %10s %10s  %-9s %-6s  %s"
              % (family, competitor, fmt_value(median(v)), fmt_value(min(v)), fmt_value(max(v)),
                 unit, "higher" if higher else "lower", fair))
    print("  the .cpu rows: the CPU time of both processes (parent and Pipe or Queue child) "
          "per operation")
    if loop_ns is not None:
        print("  the ns/op rows include the loop: an empty `for _ in range(n)` iteration takes "
              "%.2f ns here" % loop_ns)
    print()
    for family, competitor, unit, higher, v, _ in rows:
        if family is not None:
            print(result_line(family, competitor, v, unit, higher))
    print()
    print("total time: %.1f s" % (perf() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
