#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""ci/amalgamate.py OUTDIR: weft as one header and one source file.

Writes OUTDIR/weft.h (every public header, in include order) and
OUTDIR/weft.c (ci/amalgamation/config.h, which decides from the compiler's
platform macros what CMake decides at configure time, then the internal
headers and every source file CMake builds on any platform, each backend
file inside an #if for its platform). `cc -c weft.c` builds it, with
-pthread on POSIX and -lsynchronization on Windows for the program that
links it.

Each file is pasted once, where it is first included; `#line` directives
keep compiler messages pointing at the original files. The macros a .c file
defines are #undef'd after it, so none leaks into the next file.
"""
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CONFIG = ROOT / "ci" / "amalgamation" / "config.h"

# Each backend: its directory, the header its files share (pasted before
# them) and the platforms it is for.
BACKENDS = (("src/posix", "posix.h", "!defined(_WIN32)"),
            ("src/win32", "win32.h", "defined(_WIN32)"))
# Backend files that CMake builds only for some configurations, and the
# condition (decided by config.h) under which weft.c compiles them.
CONDITIONAL = {
    "src/posix/wait_futex.c": "defined(WEFT_WAIT_FUTEX)",
    "src/posix/wait_parkinglot.c": "defined(WEFT_WAIT_PARKINGLOT)",
    "src/win32/dllmain.c": "!defined(WEFT_STATIC)",  # CMake: only in the DLL
    # cmake/posix.cmake picks one by the system's name.
    "src/posix/linux.c": "defined(__linux__)",
    "src/posix/darwin.c": "defined(__APPLE__)",
    "src/posix/bsd.c": "defined(__FreeBSD__) || defined(__DragonFly__) || defined(__NetBSD__) || defined(__OpenBSD__)",
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
DEFINE = re.compile(r"^\s*#\s*define\s+(\w+)")
# The backend files ask for _GNU_SOURCE, which only works before the first
# system header: config.h defines it at the top instead.
FEATURE_MACRO = re.compile(r"^\s*#\s*define\s+_GNU_SOURCE\b")


def rel(path):
    return path.relative_to(ROOT).as_posix()


class Paster:
    """Pastes files, resolving weft's own includes, each file only once."""

    def __init__(self):
        self.done = set()
        self.out = []

    def resolve(self, including, quote, name):
        """The weft file an #include names, or None for a system header."""
        candidates = [ROOT / "include" / name]
        if quote == '"':
            candidates.insert(0, including.parent / name)
        for c in candidates:
            if c.is_file():
                return c.resolve()
        return None

    def paste(self, path):
        path = path.resolve()
        if path in self.done:
            return
        self.done.add(path)
        lines = path.read_text(encoding="utf-8").splitlines()
        defined = []
        self.out.append(f'#line 1 "{rel(path)}"')
        for number, line in enumerate(lines, 1):
            include = INCLUDE.match(line)
            target = include and self.resolve(path, include.group(1), include.group(2))
            if target is not None:
                # An empty line in its place keeps the numbering when the
                # file was pasted already.
                if target in self.done:
                    self.out.append("")
                else:
                    self.paste(target)
                    self.out.append(f'#line {number + 1} "{rel(path)}"')
                continue
            if path.suffix == ".c" and FEATURE_MACRO.match(line):
                self.out.append("/* _GNU_SOURCE: defined at the top of weft.c */")
                continue
            define = DEFINE.match(line)
            if define and path.suffix == ".c" and define.group(1) not in defined:
                defined.append(define.group(1))
            self.out.append(line)
        self.out.extend(f"#undef {name}" for name in defined)

    def text(self):
        return "\n".join(self.out) + "\n"


def version():
    """The version, from the one place it is written (CMakeLists.txt reads
    it from there too)."""
    text = (ROOT / "include" / "weft" / "version.h").read_text(encoding="utf-8")
    match = re.search(r'#define WEFT_VERSION_STRING "([^"]+)"', text)
    if not match:
        sys.exit("amalgamate: no WEFT_VERSION_STRING in include/weft/version.h")
    return match.group(1)


def commit():
    """The commit, marked when the files pasted here have local changes;
    None without git or outside a work tree."""
    def git(*args):
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)

    try:
        head = git("rev-parse", "--short=12", "HEAD")
    except OSError:
        return None
    if head.returncode != 0:
        return None
    changed = git("status", "--porcelain", "--", "include", "src",
                  rel(CONFIG)).stdout.strip()
    return head.stdout.strip() + (" with local changes" if changed else "")


def sources():
    """The layers' .c files (src/sync/, src/, then src/ipc/) and the backend
    directories', checked against the sources CMakeLists.txt names so a new
    file cannot be missed here."""
    common = [p for d in ("sync", ".", "ipc") for p in sorted((ROOT / "src" / d).glob("*.c"))]
    backends = [(ROOT / d / h, sorted((ROOT / d).glob("*.c")), cond) for d, h, cond in BACKENDS]
    found = {rel(p) for p in common} | {rel(p) for _, files, _ in backends for p in files}
    cmake = "".join(p.read_text(encoding="utf-8")
                    for p in (ROOT / "CMakeLists.txt", ROOT / "cmake" / "posix.cmake"))
    named = set(re.findall(r"\bsrc/[\w/]+\.c\b", cmake))
    if found != named:
        sys.exit("amalgamate: src/ and the CMake files disagree: "
                 f"only in src/: {sorted(found - named)}, "
                 f"only in the CMake files: {sorted(named - found)}")
    if not set(CONDITIONAL) <= found:
        sys.exit(f"amalgamate: no such file: {sorted(set(CONDITIONAL) - found)}")
    return common, backends


def banner(what, ver, rev):
    made = f"commit {rev}" if rev else "a tree without git"
    return (f"/*\n * {what} weft {ver}, from {made}, by ci/amalgamate.py.\n"
            " * Generated: edit the files named in the #line directives instead.\n"
            " * Static by default; define WEFT_SHARED when building and using a\n"
            " * shared library (a DLL) from weft.c.\n */\n")


def header(ver, rev):
    paste = Paster()
    paste.paste(ROOT / "include" / "weft.h")
    return (banner("weft.h: the public API of", ver, rev)
            + "#if !defined(WEFT_STATIC) && !defined(WEFT_SHARED)\n"
            "#define WEFT_STATIC\n#endif\n"
            + paste.text()), paste.done


def source(ver, rev, public):
    common, backends = sources()
    paste = Paster()
    paste.done |= public  # in weft.h, included below
    parts = [banner("weft.c: the whole of", ver, rev)]
    paste.paste(CONFIG)
    paste.out.append('#include "weft.h"')
    paste.paste(ROOT / "src" / "internal.h")
    for path in common:
        paste.paste(path)
    for shared, files, condition in backends:
        paste.out.append(f"#if {condition}")
        paste.paste(shared)
        for path in files:
            cond = CONDITIONAL.get(rel(path))
            if cond:
                paste.out.append(f"#if {cond}")
            paste.paste(path)
            if cond:
                paste.out.append(f"#endif /* {cond} */")
        paste.out.append(f"#endif /* {condition} */")
    parts.append(paste.text())
    return "".join(parts)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: ci/amalgamate.py OUTDIR")
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    ver, rev = version(), commit()
    text, public = header(ver, rev)
    (out / "weft.h").write_text(text, encoding="utf-8")
    (out / "weft.c").write_text(source(ver, rev, public), encoding="utf-8")


if __name__ == "__main__":
    main()
