#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/allocfail.sh: allocation failure injection (preset "allocfail": clang,
# Debug, AddressSanitizer + UndefinedBehaviorSanitizer,
# WEFT_FAULT_INJECTION=ON). Builds test_allocfail only and runs the
# allocfail module: every call path with each of its allocations failed in
# turn (tests/test_allocfail.c). Then a summary: the allocations failed per
# path, the total, and which allocation sites in src/ were reached.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=sanitizer.sh
source "$WEFT_ROOT/ci/sanitizer.sh"
ci_default_cc clang
sanitizer_setup address,undefined

status=0
bash "$WEFT_ROOT/ci/build-and-test.sh" allocfail "$@" || status=$?

log="$WEFT_ROOT/build-allocfail/Testing/Temporary/LastTest.log"
[[ -r $log ]] || exit $((status ? status : 1))
ci_log "allocfail: allocations failed in turn, per call path"
sed -n -E 's/^allocfail: ([a-z_/]+): ([0-9]+) allocations failed in turn$/\1 \2/p' "$log" |
  sort | awk '{ printf "  %-24s %5d\n", $1, $2; total += $2; paths++ }
              END { printf "  %-24s %5d (%d paths)\n", "total", total, paths }'

# The sites: every weft__malloc/calloc/realloc/strdup call in the sources
# compiled here, and those the sweep made fail ("failed at src/x.c:line").
dir=$(ci_tempdir)
backend=posix
ci_is_windows && backend=win32
(cd "$WEFT_ROOT" &&
  grep -n -E 'weft__(malloc|calloc|realloc|strdup)\(' src/*.c src/ipc/*.c "src/$backend"/*.c |
  grep -v -E '^src/(memory|fault)\.c:' | cut -d: -f1,2 | sort -u) >"$dir/all"
sed -n -E 's/.* failed at (src\/[^ ]+:[0-9]+)$/\1/p' "$log" | sort -u >"$dir/reached"
reached=$(comm -12 "$dir/all" "$dir/reached" | wc -l)
ci_log "allocfail: $reached of $(wc -l <"$dir/all") allocation sites in src/ (common and" \
  "$backend) made to fail; not reached (some are for other systems):"
comm -23 "$dir/all" "$dir/reached" | sed 's/^/  /'
rm -rf "$dir"
exit "$status"
