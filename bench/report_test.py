#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks of bench/report.py on bench/report_sample.txt (CTest
bench.report.figures): each figure the report derives must be the one its
inputs give, and each loss is listed with its cause. Standard library only.

    python3 bench/report_test.py OUT_DIR
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def headline_cells(text, family, regime):
    """The cells of the headline row of `family` in `regime`."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 9 and cells[0] == family and cells[1] == regime:
            return cells
    sys.exit("report_test: no headline row for %s in %s" % (family, regime))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: report_test.py OUT_DIR")
    out = sys.argv[1]
    subprocess.run([sys.executable, os.path.join(HERE, "report.py"), "--out-dir", out,
                    os.path.join(HERE, "report_sample.txt")], check=True)
    with open(os.path.join(out, "RESULTS.md"), encoding="utf-8") as f:
        text = f.read()
    failures = []
    # Python's rows are set beside weft's row of the regimes with their
    # load, whatever the placement: the quiet one (80 ns) beside 20 ns
    # pinned and quiet, the one under external load (105 ns) beside 21 ns
    # unpinned under external load.
    for regime, want in (("pinned, quiet", "4.00×"), ("unpinned, external-load", "5.00×")):
        got = headline_cells(text, "lock.uncontended", regime)[8]
        if not got.startswith(want):
            failures.append("lock.uncontended, %s: vs Python %r, expected %s" % (regime, got, want))
    # "Where weft loses": every family slower somewhere, with its regime,
    # speed and competitor, and its cause or the lack of one; none that is
    # faster everywhere.
    losses = text.split("### Where weft loses, and why", 1)[-1].split("\n## ", 1)[0]
    loss_lines = {line.split("**")[1]: line for line in losses.splitlines()
                  if line.startswith("- **")}
    for family, want in (
            ("lock.uncontended", "(pinned, quiet: 0.90× futex (bare)): weft's acquire"),
            ("sample.unexplained", "**no cause on record**")):
        if want not in loss_lines.get(family, ""):
            failures.append("where weft loses, %s: %r, expected %r"
                            % (family, loss_lines.get(family), want))
    if "queue.bounded.1p1c" in loss_lines:
        failures.append("where weft loses lists queue.bounded.1p1c, where weft is faster")
    for failure in failures:
        print("report_test: " + failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
