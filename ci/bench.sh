#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/bench.sh [--smoke]: build the benchmarks (Release, -DWEFT_BUILD_BENCH=ON)
# in build-bench/ (removed first), run every bench in full in each regime
# below and bench/python_ref.py quiet and under external load (when python3
# is installed), keep their raw output in build-bench/bench-output/, and
# write bench/RESULTS.md and bench/results.svg from it with bench/report.py
# (about 20 minutes on two cores).
#
# The regimes (each bench measures and prints its own first, see
# bench/bench_regime.h; report.py labels every figure with it):
#   placement  pinned: bench_lock and bench_queue pin each thread to a CPU,
#              bench_ipc each of its two processes,
#              bench_thread and bench_spawn run under `taskset -c 0` (skipped
#              without taskset); unpinned: --no-pin, no taskset
#   load       quiet: nothing else is started;
#              oversubscribed: bench_lock's contended runs with 8 threads
#              and 4 condition ping-pongs at once (--threads 8
#              --pingpong-pairs 4; its uncontended rows come along) and
#              bench_queue's 4P/4C queues and its executor-as-used family
#              with 8 workers per pool (--families queue,asused --pairs 4
#              --workers 8): 4 pairs of threads or more on 2 CPUs;
#              external-load: two busy processes, started here before the
#              bench and killed after it
# Every placement runs with every load; bench_thread, bench_spawn and
# bench_ipc, which run no pairs, skip oversubscribed. bench_sizes measures no time: it runs
# once.
#
#   --smoke   every bench and python_ref.py with --smoke (seconds, not
#             minutes); the report goes to build-bench/bench-output/ and
#             bench/ is left alone, so a smoke run never replaces the
#             committed results.
#
# The competitors (GLib, libuv, APR, APR-util) are found with pkg-config when
# the bench is configured; each one missing only drops its rows
# (ci/install-deps.sh installs them). Run it on a quiet machine: the numbers
# are only as steady as the machine is idle (a "quiet" run that found other
# processes busy is reported as "quiet (measured busy)").
#
# Environment:
#   CC   the compiler (default: cc)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

smoke=""
for arg in "$@"; do
  case $arg in
    --smoke) smoke="--smoke" ;;
    -h | --help) sed -n '2,40p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) ci_die "usage: ci/bench.sh [--smoke]" ;;
  esac
done

cd "$WEFT_ROOT" || exit 1
build="build-bench"
out="$build/bench-output"
if [[ -n $smoke ]]; then report_dir=$out; else report_dir="bench"; fi
ci_default_cc cc

rm -rf "$build"
ci_log "bench: configure"
gen=()
while IFS= read -r arg; do gen+=("$arg"); done < <(ci_generator_args)
cmake -S . -B "$build" ${gen[@]+"${gen[@]}"} -DCMAKE_BUILD_TYPE=Release \
  -DWEFT_BUILD_BENCH=ON -DWEFT_BUILD_TESTS=OFF -DWEFT_BUILD_EXAMPLES=OFF
ci_log "bench: build"
cmake --build "$build" --parallel "$WEFT_CI_JOBS"

mkdir -p "$out"
benches=()
for exe in "$build"/bench/bench_*; do
  [[ -f $exe && -x $exe ]] && benches+=("$exe")
done
[[ ${#benches[@]} -gt 0 ]] || ci_die "no bench_* programs in $build/bench"

# The external load: two processes that only spin, killed by their ids.
load_pids=()
stop_load() {
  if [[ ${#load_pids[@]} -gt 0 ]]; then
    kill "${load_pids[@]}" 2>/dev/null || true
    wait "${load_pids[@]}" 2>/dev/null || true  # killed: a non-zero status
  fi
  load_pids=()
}
start_load() {
  for _ in 1 2; do
    (while :; do :; done) &
    load_pids+=($!)
  done
}
trap stop_load EXIT

# run_bench EXE PLACEMENT LOAD: one run of a bench in one regime, its output
# in $out/<name>.<placement>.<load>.txt; false when the bench does not run in
# that regime.
outputs=()
run_bench() {
  local exe=$1 placement=$2 load=$3 name args=() prefix=()
  name=$(basename "$exe")
  case $name:$placement in
    bench_sizes:*) [[ $placement == pinned && $load == quiet ]] || return 0 ;;
    bench_lock:unpinned | bench_queue:unpinned | bench_ipc:unpinned) args+=(--no-pin) ;;
    bench_thread:pinned | bench_spawn:pinned)
      command -v taskset >/dev/null 2>&1 || { ci_log "bench: no taskset, no pinned $name"; return 0; }
      prefix=(taskset -c 0) ;;
  esac
  case $name:$load in
    bench_sizes:*) ;;
    bench_lock:oversubscribed) args+=(--threads 8 --pingpong-pairs 4) ;;
    bench_queue:oversubscribed) args+=(--families queue,asused --pairs 4 --workers 8) ;;
    *:oversubscribed) return 0 ;;
  esac
  [[ $name == bench_sizes ]] || args+=(--regime "$load")
  [[ -n $smoke && $name != bench_sizes ]] && args+=("$smoke")
  local file="$out/$name.$placement.$load.txt"
  ci_log "bench: $name, $placement, $load: ${prefix[*]+${prefix[*]} }./$name ${args[*]+${args[*]}}"
  [[ $load == external-load ]] && start_load
  # From its own directory, so its "command:" line reads ./bench_x.
  # (A failing bench ends the script, set -e and pipefail; the trap stops the load.)
  (cd "$(dirname "$exe")" && ${prefix[@]+"${prefix[@]}"} "./$name" ${args[@]+"${args[@]}"}) | tee "$file"
  stop_load
  outputs+=("$file")
}

for placement in pinned unpinned; do
  for load in quiet oversubscribed external-load; do
    for exe in "${benches[@]}"; do
      run_bench "$exe" "$placement" "$load"
    done
  done
done

if ! command -v python3 >/dev/null 2>&1; then
  ci_log "bench: python3 not found: no Python reference and no report (raw output in $out/)"
  exit 0
fi
# Python's reference in each load the benches' pairs compare under
# (report.py sets its rows beside weft's of the regimes with that label);
# oversubscribed is the benches' own threads, which Python's runs lack.
for load in quiet external-load; do
  ci_log "bench: python_ref.py, $load${smoke:+ $smoke}"
  [[ $load == external-load ]] && start_load
  python3 bench/python_ref.py --regime "$load" ${smoke:+"$smoke"} | tee "$out/python_ref.$load.txt"
  stop_load
  outputs+=("$out/python_ref.$load.txt")
done

ci_log "bench: report into $report_dir/"
python3 bench/report.py --out-dir "$report_dir" \
  --command "ci/bench.sh${smoke:+ $smoke} (CC=$CC)" "${outputs[@]}"
