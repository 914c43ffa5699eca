#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/bench.sh [--smoke]: build the benchmarks (Release, -DWEFT_BUILD_BENCH=ON)
# in build-bench/ (removed first), run every bench in full and
# bench/python_ref.py (when python3 is installed), keep their raw output in
# build-bench/bench-output/, and write bench/RESULTS.md and bench/results.svg
# from it with bench/report.py (about 7 minutes on two cores).
#
#   --smoke   every bench and python_ref.py with --smoke (seconds, not
#             minutes); the report goes to build-bench/bench-output/ and
#             bench/ is left alone, so a smoke run never replaces the
#             committed results.
#
# The competitors (GLib, libuv, APR, APR-util) are found with pkg-config when
# the bench is configured; each one missing only drops its rows
# (ci/install-deps.sh installs them). Run it on a quiet machine: the numbers
# are only as steady as the machine is idle.
#
# Environment:
#   CC   the compiler (default: cc)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

smoke=""
for arg in "$@"; do
  case $arg in
    --smoke) smoke="--smoke" ;;
    -h | --help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
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

outputs=()
for exe in "${benches[@]}"; do
  name=$(basename "$exe")
  ci_log "bench: $name${smoke:+ $smoke}"
  # From its own directory, so its "command:" line reads ./bench_x.
  (cd "$(dirname "$exe")" && "./$name" ${smoke:+"$smoke"}) | tee "$out/$name.txt"
  outputs+=("$out/$name.txt")
done

if ! command -v python3 >/dev/null 2>&1; then
  ci_log "bench: python3 not found: no Python reference and no report (raw output in $out/)"
  exit 0
fi
ci_log "bench: python_ref.py${smoke:+ $smoke}"
python3 bench/python_ref.py ${smoke:+"$smoke"} | tee "$out/python_ref.txt"
outputs+=("$out/python_ref.txt")

ci_log "bench: report into $report_dir/"
python3 bench/report.py --out-dir "$report_dir" \
  --command "ci/bench.sh${smoke:+ $smoke} (CC=$CC)" "${outputs[@]}"
