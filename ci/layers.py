#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""ci/layers.py: weft's layers only look down (HACKING.md).

Reads the table of layers from HACKING.md (so the map and the check cannot
drift apart), gives every file under src/ its layer, and fails when
  - a file is in no layer, or in two;
  - a file #includes a header of a layer above its own (the one exception
    the table names aside);
  - a .c file declares a weft__ or weft_sys_ function itself instead of
    taking the declaration from its layer's header (a way round the rule
    above: the compiler refuses a call with no declaration, so the include
    rule is also a rule on calls);
  - a header does not compile on its own (C11, -Wall -Wextra -Wpedantic
    -Werror, with $CC or cc; the Win32 backend's only where the compiler
    targets Windows), so each can be included first, alone.
Prints "layers: N passed, N failed" (one check per file) last.
"""
import fnmatch
import os
import pathlib
import re
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)
# A file-scope prototype of a library-internal function.
PROTOTYPE = re.compile(r"^[A-Za-z_][\w \*]*\b(weft__\w+|weft_sys_\w+)\s*\([^;{]*\)\s*;", re.M)
ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*(\w+)\s*\|(.*)\|(.*)\|\s*$")
EXCEPTION = re.compile(r"^-\s*`(src/[\w/.]+)`\s+includes\s+`(src/[\w/.]+)`")


def table():
    """[(rank, name, [patterns])] from HACKING.md's layer table, and the
    allowed exceptions {(file, header)}."""
    text = (ROOT / "HACKING.md").read_text(encoding="utf-8")
    layers, exceptions = [], set()
    for line in text.splitlines():
        row = ROW.match(line)
        if row:
            patterns = re.findall(r"`(src/[^`]+)`", row.group(3) + row.group(4))
            layers.append((int(row.group(1)), row.group(2), patterns))
        exception = EXCEPTION.match(line)
        if exception:
            exceptions.add(exception.groups())
    if not layers:
        sys.exit("layers: HACKING.md has no layer table")
    return layers, exceptions


def compiles_alone(header):
    """None when `header` compiles on its own (or cannot be tried here),
    else the compiler's first complaint."""
    cc = os.environ.get("CC") or "cc"
    if shutil.which(cc) is None:
        return None
    rel = header.relative_to(ROOT).as_posix()
    targets_windows = "_WIN32" in subprocess.run(
        [cc, "-dM", "-E", "-x", "c", os.devnull], capture_output=True, text=True).stdout
    if rel.startswith("src/win32/") and not targets_windows:
        return None
    if rel.startswith("src/posix/") and targets_windows:
        return None
    defines = ["-DWEFT_BUILDING"] + (["-DWEFT_FAULT_INJECTION"] if rel == "src/fault.h" else [])
    run = subprocess.run(
        [cc, "-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-fsyntax-only",
         *defines, f"-I{ROOT / 'include'}", "-x", "c", "-"],
        input=f'#include "{header}"\n', capture_output=True, text=True)
    if run.returncode == 0:
        return None
    first = next((l for l in run.stderr.splitlines() if "error" in l), run.stderr.strip())
    return first or f"{cc} failed"


def main():
    layers, exceptions = table()
    files = sorted(p for p in (ROOT / "src").rglob("*") if p.suffix in (".c", ".h"))
    rank = {}
    passed = failed = 0
    problems = []
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        hits = [(r, n) for r, n, pats in layers if any(fnmatch.fnmatch(rel, p) for p in pats)]
        if len(hits) != 1:
            problems.append(f"{rel}: in {len(hits)} layers of HACKING.md's table, not 1")
        else:
            rank[rel] = hits[0]
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        if rel not in rank:
            failed += 1
            continue
        mine, name = rank[rel]
        text = path.read_text(encoding="utf-8")
        bad = []
        for included in INCLUDE.findall(text):
            target = (path.parent / included).resolve()
            if not target.is_file():
                continue  # a public header, from include/
            target_rel = target.relative_to(ROOT).as_posix()
            if target_rel not in rank:
                continue
            theirs, their_name = rank[target_rel]
            if theirs > mine and (rel, target_rel) not in exceptions:
                bad.append(f"{rel} ({name}) includes {target_rel} ({their_name}), a layer above")
        if path.suffix == ".c":
            for fn in PROTOTYPE.findall(text):
                bad.append(f"{rel} declares {fn}() itself: take it from a header of its layer or below")
        else:
            complaint = compiles_alone(path)
            if complaint:
                bad.append(f"{rel} does not compile on its own: {complaint}")
        problems.extend(bad)
        if bad:
            failed += 1
        else:
            passed += 1
    for p in problems:
        print(f"layers: {p}")
    print(f"layers: {passed} passed, {failed} failed")
    return 1 if failed or problems else 0


if __name__ == "__main__":
    sys.exit(main())
