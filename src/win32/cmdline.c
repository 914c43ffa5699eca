/* SPDX-License-Identifier: MIT */
/*
 * The string work behind a spawn on Windows, kept apart from the process
 * calls: UTF-8 <-> UTF-16, the command line that a child's C runtime parses
 * back into the same argv, what a batch file may safely be given, and the
 * PATH / PATHEXT search for a program.
 */
#include "win32.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* ---- UTF-8 <-> UTF-16 -------------------------------------------------------- */

int weft__win32_utf16(const char *s, wchar_t **out)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    wchar_t *w;

    *out = NULL;
    if (n <= 0) {
        DWORD err = GetLastError();

        if (err == ERROR_NO_UNICODE_TRANSLATION)
            return weft__fail(WEFT_EINVAL, "\"%.60s\" is not UTF-8", s);
        return weft__fail_wrap(weft__status_from_win32(err), "MultiByteToWideChar");
    }
    w = weft__malloc((size_t)n * sizeof *w);
    if (!w)
        return weft__fail_text(WEFT_ENOMEM, "no memory for a UTF-16 string");
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) != n) {
        int status = weft__status_from_win32(GetLastError());

        weft__free(w);
        return status;
    }
    *out = w;
    return WEFT_OK;
}

int weft__win32_utf8(const wchar_t *w, char **out)
{
    int n = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, -1, NULL, 0, NULL, NULL);
    char *s;

    *out = NULL;
    if (n <= 0)
        return weft__status_from_win32(GetLastError());
    s = weft__malloc((size_t)n);
    if (!s)
        return weft__fail_text(WEFT_ENOMEM, "no memory for a UTF-8 string");
    if (WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, -1, s, n, NULL, NULL) != n) {
        int status = weft__status_from_win32(GetLastError());

        weft__free(s);
        return status;
    }
    *out = s;
    return WEFT_OK;
}

/* ---- The command line --------------------------------------------------------- */

/* CreateProcessW's limit, counting the terminating NUL. */
#define CMDLINE_MAX 32767

/* A command line being measured (p NULL) or written (p large enough). The
 * same code does both, so the two passes cannot disagree. */
typedef struct wbuf {
    wchar_t *p;
    size_t len;
} wbuf;

static void put(wbuf *b, wchar_t c)
{
    if (b->p)
        b->p[b->len] = c;
    b->len++;
}

static void put_repeat(wbuf *b, wchar_t c, size_t n)
{
    while (n-- > 0)
        put(b, c);
}

static void put_string(wbuf *b, const wchar_t *s)
{
    while (*s)
        put(b, *s++);
}

/*
 * One argument after argv[0], as CommandLineToArgvW and the Microsoft and
 * mingw-w64 C runtimes read it back, whatever it holds: bare when nothing
 * in it is special to them, else quoted, with \" for a quote and the
 * backslashes before a quote (or before the closing quote) doubled, since
 * only there do backslashes escape. Newline and vertical tab force quotes
 * too, as in the usual form of this algorithm: some parsers take them for
 * white space.
 */
static void put_argument(wbuf *b, const wchar_t *arg)
{
    size_t backslashes = 0;

    if (*arg && !wcspbrk(arg, L" \t\n\v\"")) {
        put_string(b, arg);
        return;
    }
    put(b, L'"');
    for (; *arg; arg++) {
        if (*arg == L'\\') {
            backslashes++;
            continue;
        }
        put_repeat(b, L'\\', *arg == L'"' ? 2 * backslashes + 1 : backslashes);
        put(b, *arg);
        backslashes = 0;
    }
    put_repeat(b, L'\\', 2 * backslashes);
    put(b, L'"');
}

/* `s` as it is, in quotes when it is empty or holds one of `specials`;
 * nothing inside is escaped (for readers that know no escapes). */
static void put_quoted_if(wbuf *b, const wchar_t *s, const wchar_t *specials)
{
    bool quote = *s == 0 || wcspbrk(s, specials) != NULL;

    if (quote)
        put(b, L'"');
    put_string(b, s);
    if (quote)
        put(b, L'"');
}

/*
 * argv[0] is read by other rules: up to the next quote if it starts with
 * one, else up to a space or tab, with no escapes at all. So it is quoted
 * when it holds a space or tab (or is empty, which would otherwise vanish).
 * A quote inside it cannot be written in a form the child reads back: the
 * caller refuses such a name.
 */
static void put_program(wbuf *b, const wchar_t *argv0)
{
    put_quoted_if(b, argv0, L" \t");
}

/* Whether the argument list can still fit after adding `arg`; checked
 * before each argument, so that the sum of worst cases (2 * length + 3
 * units each) cannot overflow a size_t. */
static bool fits(const wbuf *b, const wchar_t *arg)
{
    return b->len < CMDLINE_MAX && wcslen(arg) < CMDLINE_MAX;
}

static int too_long(size_t i)
{
    return weft__fail(WEFT_EINVAL, "argv[%zu] makes the command line longer than Windows takes", i);
}

static int write_plain_line(wbuf *b, const wchar_t *const *argv, size_t argc)
{
    put_program(b, argv[0]);
    for (size_t i = 1; i < argc; i++) {
        if (!fits(b, argv[i]))
            return too_long(i);
        put(b, L' ');
        put_argument(b, argv[i]);
    }
    return WEFT_OK;
}

/*
 * What cmd.exe cannot misread. cmd.exe runs a batch file and parses its
 * command line again by rules of its own (quotes toggle a state that
 * backslashes cannot escape, % and ! expand variables, & | < > ^ ( ) act
 * outside quotes), so no quoting carries every string through it: the
 * "BatBadBut" flaw of 2024. Only characters that mean nothing to it are let
 * through; non-ASCII characters are safe because cmd.exe works in UTF-16.
 */
static bool batch_safe(const wchar_t *arg)
{
    for (; *arg; arg++) {
        wchar_t c = *arg;

        if (c >= 0x80 || (c >= L'a' && c <= L'z') || (c >= L'A' && c <= L'Z') ||
            (c >= L'0' && c <= L'9'))
            continue;
        if (!wcschr(L" -_.,:/\\+=@~;", c))
            return false;
    }
    return true;
}

/*
 * A batch file's arguments reach it through cmd.exe, which splits at
 * spaces, commas, semicolons and equals signs outside quotes and leaves
 * backslashes alone; so an argument holding one of those (or empty) is
 * quoted and nothing is escaped. %1 in the batch file is then the argument
 * in quotes, %~1 the argument itself.
 */
static void put_batch_argument(wbuf *b, const wchar_t *arg)
{
    put_quoted_if(b, arg, L" ,;=");
}

/*
 * cmd.exe /c "<script> args": cmd.exe strips the outer quotes (/s makes
 * that unconditional) and runs the rest. /d skips the AutoRun commands of
 * the registry, /v:off the delayed expansion of !name! that the registry
 * may turn on. The script is given by its full path in quotes, so cmd.exe
 * searches nothing (not its current directory).
 */
static int write_batch_line(wbuf *b, const wchar_t *script, const wchar_t *const *argv,
                            size_t argc)
{
    if (wcspbrk(script, L"\"%"))
        return weft__fail_text(WEFT_EINVAL,
                               "a batch file's path may not hold '\"' or '%' (cmd.exe rereads it)");
    put_string(b, L"cmd.exe /d /v:off /s /c \"\"");
    put_string(b, script);
    put(b, L'"');
    for (size_t i = 1; i < argc; i++) {
        if (!fits(b, argv[i]))
            return too_long(i);
        if (!batch_safe(argv[i]))
            return weft__fail(WEFT_EINVAL,
                              "argv[%zu] of a batch file holds a character cmd.exe could misread "
                              "(only letters, digits, space and -_.,;:/\\+=@~ are passed)",
                              i);
        put(b, L' ');
        put_batch_argument(b, argv[i]);
    }
    put(b, L'"');
    return WEFT_OK;
}

/* The file name's extension is .bat or .cmd, ignoring case and the trailing
 * dots and spaces that Windows drops from a file name. */
bool weft__win32_is_batch(const wchar_t *path)
{
    size_t n = wcslen(path);

    while (n > 0 && (path[n - 1] == L'.' || path[n - 1] == L' '))
        n--;
    return n >= 4 && (CompareStringOrdinal(path + n - 4, 4, L".bat", 4, TRUE) == CSTR_EQUAL ||
                      CompareStringOrdinal(path + n - 4, 4, L".cmd", 4, TRUE) == CSTR_EQUAL);
}

static int write_line(wbuf *b, const wchar_t *program, const wchar_t *const *argv, size_t argc)
{
    if (weft__win32_is_batch(program))
        return write_batch_line(b, program, argv, argc);
    return write_plain_line(b, argv, argc);
}

int weft__win32_command_line(const wchar_t *program, const wchar_t *const *argv, size_t argc,
                             wchar_t **out)
{
    wbuf b = {NULL, 0};
    int status = write_line(&b, program, argv, argc);

    *out = NULL;
    if (status != WEFT_OK)
        return status;
    if (b.len >= CMDLINE_MAX)
        return weft__fail(WEFT_EINVAL, "the command line is %zu characters, more than Windows takes",
                          b.len);
    b.p = weft__malloc((b.len + 1) * sizeof *b.p);
    if (!b.p)
        return weft__fail_text(WEFT_ENOMEM, "no memory for the command line");
    b.len = 0;
    write_line(&b, program, argv, argc);
    b.p[b.len] = 0;
    *out = b.p;
    return WEFT_OK;
}

/* ---- Finding the program ----------------------------------------------------- */

#define DEFAULT_PATHEXT L".COM;.EXE;.BAT;.CMD"

/* The next item of a ';'-separated list at *s (advanced past it), with the
 * quotes around it removed: in PATH a quoted directory may hold a ';'.
 * Returns false at the end of the list. Items may be empty. */
static bool next_item(const wchar_t **s, const wchar_t **item, size_t *len)
{
    const wchar_t *p = *s;
    bool quoted = false;

    if (!p)
        return false;
    while (*p && (quoted || *p != L';')) {
        if (*p == L'"')
            quoted = !quoted;
        p++;
    }
    *item = *s;
    *len = (size_t)(p - *s);
    *s = *p ? p + 1 : NULL;
    if (*len >= 2 && (*item)[0] == L'"' && (*item)[*len - 1] == L'"') {
        (*item)++;
        *len -= 2;
    }
    return true;
}

/* The full path of `path` (relative to the current directory), malloc'd. */
static int full_path(const wchar_t *path, wchar_t **out)
{
    DWORD size = GetFullPathNameW(path, 0, NULL, NULL);

    *out = NULL;
    while (size != 0) {
        wchar_t *full = weft__malloc((size_t)size * sizeof *full);
        DWORD n;

        if (!full)
            return weft__fail_text(WEFT_ENOMEM, "no memory for a full path");
        n = GetFullPathNameW(path, size, full, NULL);
        if (n != 0 && n < size) {
            *out = full;
            return WEFT_OK;
        }
        weft__free(full);
        /* n >= size: the current directory changed in between, and grew. */
        size = n;
    }
    return weft__status_from_win32(GetLastError());
}

/* dir (may be empty) + name + ext: the full path in *out when it is a file
 * (WEFT_OK), WEFT_ENOENT when not. */
static int try_candidate(const wchar_t *dir, size_t dir_len, const wchar_t *name,
                         const wchar_t *ext, size_t ext_len, wchar_t **out)
{
    size_t name_len = wcslen(name);
    size_t sep = dir_len > 0 && dir[dir_len - 1] != L'\\' && dir[dir_len - 1] != L'/' ? 1 : 0;
    wchar_t *path = weft__malloc((dir_len + sep + name_len + ext_len + 1) * sizeof *path);
    wchar_t *full;
    DWORD attributes;
    int status;

    *out = NULL;
    if (!path)
        return weft__fail_text(WEFT_ENOMEM, "no memory for a candidate path");
    memcpy(path, dir, dir_len * sizeof *path);
    if (sep)
        path[dir_len] = L'\\';
    memcpy(path + dir_len + sep, name, name_len * sizeof *path);
    memcpy(path + dir_len + sep + name_len, ext, ext_len * sizeof *path);
    path[dir_len + sep + name_len + ext_len] = 0;
    status = full_path(path, &full);
    weft__free(path);
    if (status != WEFT_OK)
        /* A name the OS cannot make a path of names no program. */
        return status == WEFT_ENOMEM ? status : WEFT_ENOENT;
    attributes = GetFileAttributesW(full);
    if (attributes == INVALID_FILE_ATTRIBUTES || (attributes & FILE_ATTRIBUTE_DIRECTORY)) {
        weft__free(full);
        return WEFT_ENOENT;
    }
    *out = full;
    return WEFT_OK;
}

static int try_extensions(const wchar_t *dir, size_t dir_len, const wchar_t *name,
                          const wchar_t *pathext, wchar_t **out)
{
    const wchar_t *ext;
    size_t ext_len;

    while (next_item(&pathext, &ext, &ext_len)) {
        int status;

        if (ext_len == 0)
            continue;
        status = try_candidate(dir, dir_len, name, ext, ext_len, out);
        if (status != WEFT_ENOENT)
            return status;
    }
    return weft__fail_wrap(weft__status_from_win32(ERROR_FILE_NOT_FOUND),
                           "not found in the PATH directories");
}

static const wchar_t *file_name(const wchar_t *path)
{
    const wchar_t *name = path;

    for (const wchar_t *p = path; *p; p++)
        if (*p == L'\\' || *p == L'/' || *p == L':')
            name = p + 1;
    return name;
}

int weft__win32_find_program(const wchar_t *name, const wchar_t *path, const wchar_t *pathext,
                             wchar_t **out)
{
    bool has_extension = wcschr(file_name(name), L'.') != NULL;
    const wchar_t *dir;
    size_t dir_len;

    *out = NULL;
    if (!pathext)
        pathext = DEFAULT_PATHEXT;
    if (wcspbrk(name, L"\\/:")) {
        int status = try_candidate(L"", 0, name, L"", 0, out);

        if (status == WEFT_ENOENT && !has_extension)
            status = try_extensions(L"", 0, name, pathext, out);
        if (status == WEFT_ENOENT)
            return weft__fail_wrap(weft__status_from_win32(ERROR_FILE_NOT_FOUND), "no such program");
        return status;
    }
    while (next_item(&path, &dir, &dir_len)) {
        int status;

        if (dir_len == 0)
            continue;
        if (has_extension)
            status = try_candidate(dir, dir_len, name, L"", 0, out);
        else
            status = try_extensions(dir, dir_len, name, pathext, out);
        if (status != WEFT_ENOENT)
            return status;
    }
    return WEFT_ENOENT;
}
