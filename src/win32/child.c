/* SPDX-License-Identifier: MIT */
/*
 * Child processes on Windows: CreateProcessW with an explicit list of the
 * handles the child inherits, waiting on and ending a child through its
 * process handle, and the facts about the running process. The string
 * work (conversions, quoting, the PATH search) is in cmdline.c.
 */
#include "win32.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

_Static_assert(sizeof(HANDLE) <= sizeof(intptr_t), "a HANDLE must fit a weft_sys_child handle");

/* Everything a spawn holds until CreateProcessW has run; release() frees
 * it on every path. */
typedef struct spawn {
    wchar_t **argv;  /* argc converted arguments, then the names of the passed files */
    size_t argc;
    wchar_t **env;   /* the converted entries of opts->env, sorted; NULL: the parent's */
    size_t envc;
    wchar_t *cwd;
    wchar_t *path, *pathext; /* the parent's, read when env has none */
    wchar_t *program;        /* the full path of the program */
    wchar_t *cmd_exe;        /* the cmd.exe that runs a batch file */
    wchar_t *cmdline;
    wchar_t *block;          /* the environment block */
    HANDLE std[3];           /* the child's standard handles (inheritable duplicates) */
    HANDLE *inherit;         /* every duplicate made for the child */
    size_t ninherit;
    LPPROC_THREAD_ATTRIBUTE_LIST attributes;
    wchar_t pass_names[2][24];
} spawn;

static void release(spawn *s)
{
    for (size_t i = 0; s->argv && i < s->argc; i++)
        weft__free(s->argv[i]);
    weft__free(s->argv);
    for (size_t i = 0; i < s->envc; i++)
        weft__free(s->env[i]);
    weft__free(s->env);
    weft__free(s->cwd);
    weft__free(s->path);
    weft__free(s->pathext);
    weft__free(s->program);
    weft__free(s->cmd_exe);
    weft__free(s->cmdline);
    weft__free(s->block);
    for (size_t i = 0; i < s->ninherit; i++)
        CloseHandle(s->inherit[i]);
    weft__free(s->inherit);
    if (s->attributes) {
        DeleteProcThreadAttributeList(s->attributes);
        weft__free(s->attributes);
    }
}

/* ---- The environment ----------------------------------------------------------- */

/* The length of an entry's name: up to its '=', looked for from the second
 * character, since the hidden per-drive variables ("=C:=C:\dir") start
 * with one. 0 when the entry has no '='. */
static size_t name_length(const wchar_t *entry)
{
    const wchar_t *eq = entry[0] ? wcschr(entry + 1, L'=') : NULL;

    return eq ? (size_t)(eq - entry) : 0;
}

/* Names compare as Windows orders an environment block: by UTF-16 code
 * unit, ignoring case, without regard to locale. (Lengths fit an int: the
 * strings came from MultiByteToWideChar, which counts in int.) */
static int compare_names(const wchar_t *a, const wchar_t *b)
{
    return CompareStringOrdinal(a, (int)name_length(a), b, (int)name_length(b), TRUE) - CSTR_EQUAL;
}

/* An insertion sort: stable, so that of two entries with the same name the
 * first given stays first (the one the child's lookups find), and short,
 * for the hundred-odd entries an environment has. */
static void sort_env(wchar_t **env, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        wchar_t *e = env[i];
        size_t j = i;

        for (; j > 0 && compare_names(env[j - 1], e) > 0; j--)
            env[j] = env[j - 1];
        env[j] = e;
    }
}

static int convert_env(spawn *s, const char *const *env)
{
    size_t n = 0;
    int status;

    while (env[n])
        n++;
    s->env = weft__calloc(n ? n : 1, sizeof *s->env);
    if (!s->env)
        return WEFT_ENOMEM;
    for (; s->envc < n; s->envc++) {
        status = weft__win32_utf16(env[s->envc], &s->env[s->envc]);
        if (status != WEFT_OK)
            return status;
        if (name_length(s->env[s->envc]) == 0) /* not "K=V": no child could read it */
            return WEFT_EINVAL;
    }
    sort_env(s->env, n);
    return WEFT_OK;
}

/* "K=V\0K=V\0\0"; an empty list gives the two NULs of an empty block. */
static int make_block(spawn *s)
{
    size_t total = 1;
    wchar_t *p;

    for (size_t i = 0; i < s->envc; i++)
        total += wcslen(s->env[i]) + 1;
    if (s->envc == 0)
        total = 2;
    s->block = weft__malloc(total * sizeof *s->block);
    if (!s->block)
        return WEFT_ENOMEM;
    p = s->block;
    for (size_t i = 0; i < s->envc; i++) {
        size_t len = wcslen(s->env[i]) + 1;

        memcpy(p, s->env[i], len * sizeof *p);
        p += len;
    }
    *p = 0;
    if (s->envc == 0)
        p[1] = 0;
    return WEFT_OK;
}

/* The value of `name` in the child's environment as given; NULL when the
 * list lacks it. */
static const wchar_t *env_value(const spawn *s, const wchar_t *name)
{
    size_t len = wcslen(name);

    for (size_t i = 0; i < s->envc; i++) {
        const wchar_t *e = s->env[i];

        if (name_length(e) == len &&
            CompareStringOrdinal(e, (int)len, name, (int)len, TRUE) == CSTR_EQUAL)
            return e + len + 1;
    }
    return NULL;
}

/* The parent's variable `name`, malloc'd into *out; NULL when unset or
 * empty. */
static int parent_variable(const wchar_t *name, wchar_t **out)
{
    DWORD size = GetEnvironmentVariableW(name, NULL, 0);

    while (size != 0) {
        wchar_t *v = weft__malloc((size_t)size * sizeof *v);
        DWORD n;

        if (!v)
            return WEFT_ENOMEM;
        n = GetEnvironmentVariableW(name, v, size);
        if (n < size) {
            if (n != 0)
                *out = v;
            else
                weft__free(v);
            return WEFT_OK;
        }
        weft__free(v); /* another thread made it longer meanwhile */
        size = n;
    }
    return WEFT_OK;
}

/* The variable the search uses: the child's when its environment is given
 * and has it, else the parent's. */
static int search_variable(spawn *s, const wchar_t *name, wchar_t **owned, const wchar_t **value)
{
    int status = WEFT_OK;

    *value = s->env ? env_value(s, name) : NULL;
    if (!*value) {
        status = parent_variable(name, owned);
        *value = *owned;
    }
    return status;
}

/* ---- Spawning ------------------------------------------------------------------ */

/* The cmd.exe of the system directory: not %ComSpec%, which the
 * environment could point anywhere. */
static int system_cmd(wchar_t **out)
{
    static const wchar_t name[] = L"\\cmd.exe";
    UINT size = GetSystemDirectoryW(NULL, 0);
    UINT n;
    wchar_t *p;

    if (size == 0)
        return weft__status_from_win32(GetLastError());
    p = weft__malloc(((size_t)size + sizeof name / sizeof name[0]) * sizeof *p);
    if (!p)
        return WEFT_ENOMEM;
    n = GetSystemDirectoryW(p, size);
    if (n == 0 || n >= size) {
        int status = weft__status_from_win32(n == 0 ? GetLastError() : ERROR_INSUFFICIENT_BUFFER);

        weft__free(p);
        return status;
    }
    memcpy(p + n, name, sizeof name);
    *out = p;
    return WEFT_OK;
}

/* An inheritable duplicate of f for the child. The original stays as it
 * is: making it inheritable would let any CreateProcess on another thread
 * take it too. */
static int inherit(spawn *s, weft_sys_file f, HANDLE *dup)
{
    HANDLE self = GetCurrentProcess();

    if (!DuplicateHandle(self, (HANDLE)f, self, dup, 0, TRUE, DUPLICATE_SAME_ACCESS))
        return weft__handle_status(GetLastError(), "DuplicateHandle");
    s->inherit[s->ninherit++] = *dup;
    return WEFT_OK;
}

/* The decimal value of a handle, the name the child reads back with
 * weft_sys_file_from_name. */
static void handle_name(HANDLE h, wchar_t name[24])
{
    wchar_t digits[24];
    uintptr_t v = (uintptr_t)h;
    size_t n = 0, i = 0;

    do {
        digits[n++] = (wchar_t)(L'0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        name[i++] = digits[--n];
    name[i] = 0;
}

static int handles(spawn *s, const weft_sys_spawn_opts *opts)
{
    int status;

    for (int i = 0; i < 3; i++) {
        weft_sys_file f = opts->stdio[i] != WEFT__NO_FILE ? opts->stdio[i] : weft_sys_stdio(i);

        if (f != WEFT__NO_FILE && (status = inherit(s, f, &s->std[i])) != WEFT_OK)
            return status;
    }
    for (size_t i = 0; i < opts->pass_count; i++) {
        HANDLE dup;

        if ((status = inherit(s, opts->pass[i], &dup)) != WEFT_OK)
            return status;
        handle_name(dup, s->pass_names[i]);
        s->argv[s->argc + i] = s->pass_names[i];
    }
    /* An inherited handle has the same value in the child. */
    for (size_t i = 0; i < opts->inherit_count; i++) {
        HANDLE dup;

        if ((status = inherit(s, opts->inherit[i], &dup)) != WEFT_OK)
            return status;
        opts->inherit_as[i] = (weft_sys_file)dup;
    }
    return WEFT_OK;
}

/* A copy of this process's environment as the child's list, to which an
 * entry is added. */
static int copy_parent_env(spawn *s)
{
    wchar_t *block = GetEnvironmentStringsW(), *p;
    size_t n = 0;
    int status = WEFT_OK;

    if (!block)
        return weft__status_from_win32(GetLastError());
    for (p = block; *p; p += wcslen(p) + 1)
        n++;
    s->env = weft__calloc(n ? n : 1, sizeof *s->env);
    for (p = block; s->env && *p; p += wcslen(p) + 1) {
        size_t len = wcslen(p) + 1;

        if ((s->env[s->envc] = weft__malloc(len * sizeof *p)) == NULL)
            break;
        memcpy(s->env[s->envc++], p, len * sizeof *p);
    }
    if (!s->env || s->envc < n)
        status = WEFT_ENOMEM;
    FreeEnvironmentStringsW(block);
    return status;
}

/* The entry "<inherit_env>=<the value of inherit[0] in the child>", in
 * place of any so named, in the child's environment (the given one, or a
 * copy of this process's). */
static int add_inherit_env(spawn *s, const weft_sys_spawn_opts *opts)
{
    const char *name = opts->inherit_env;
    size_t name_len = strlen(name), value_len, k = 0;
    wchar_t value[24], *entry, **grown;
    int status;

    if (!s->env && (status = copy_parent_env(s)) != WEFT_OK)
        return status;
    handle_name((HANDLE)opts->inherit_as[0], value);
    value_len = wcslen(value);
    entry = weft__malloc((name_len + value_len + 2) * sizeof *entry);
    if (!entry)
        return WEFT_ENOMEM;
    for (size_t i = 0; i < name_len; i++) /* weft's own name, ASCII */
        entry[i] = (wchar_t)(unsigned char)name[i];
    entry[name_len] = L'=';
    memcpy(entry + name_len + 1, value, (value_len + 1) * sizeof *value);
    for (size_t i = 0; i < s->envc; i++) {
        if (compare_names(s->env[i], entry) == 0)
            weft__free(s->env[i]);
        else
            s->env[k++] = s->env[i];
    }
    s->envc = k;
    grown = weft__realloc(s->env, (k + 1) * sizeof *grown);
    if (!grown) {
        weft__free(entry);
        return WEFT_ENOMEM;
    }
    s->env = grown;
    s->env[s->envc++] = entry;
    sort_env(s->env, s->envc);
    return WEFT_OK;
}

/* The list of exactly the handles the child inherits: without it, a child
 * would inherit every inheritable handle of the process, such as the
 * duplicates another thread is making for its own child right now. */
static int attribute_list(spawn *s)
{
    SIZE_T size = 0;
    LPPROC_THREAD_ATTRIBUTE_LIST list;

    InitializeProcThreadAttributeList(NULL, 1, 0, &size); /* fails, giving the size */
    list = weft__malloc(size);
    if (!list)
        return WEFT_ENOMEM;
    if (!InitializeProcThreadAttributeList(list, 1, 0, &size)) {
        weft__free(list);
        return weft__status_from_win32(GetLastError());
    }
    s->attributes = list;
    if (!UpdateProcThreadAttribute(list, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, s->inherit,
                                   s->ninherit * sizeof s->inherit[0], NULL, NULL))
        return weft__status_from_win32(GetLastError());
    return WEFT_OK;
}

/* Everything up to CreateProcessW: conversions, the program, the handles,
 * the command line, the environment block. */
static int prepare_spawn(spawn *s, const weft_sys_spawn_opts *opts)
{
    const wchar_t *path, *pathext;
    size_t argc = 0;
    int status;

    if (!opts->argv || !opts->argv[0] || opts->pass_count > 2)
        return WEFT_EINVAL;
    for (size_t i = 0; i < opts->pass_count; i++)
        if (opts->pass[i] == WEFT__NO_FILE)
            return WEFT_EINVAL;
    while (opts->argv[argc])
        argc++;
    s->argv = weft__calloc(argc + opts->pass_count, sizeof *s->argv);
    s->inherit = weft__calloc(3 + opts->pass_count + opts->inherit_count, sizeof *s->inherit);
    if (!s->argv || !s->inherit)
        return WEFT_ENOMEM;
    for (; s->argc < argc; s->argc++)
        if ((status = weft__win32_utf16(opts->argv[s->argc], &s->argv[s->argc])) != WEFT_OK)
            return status;
    /* The child's C runtime reads argv[0] up to the next quote, with no
     * escape: a quote in it cannot be carried. Refused before the search,
     * which could only report that no such file exists. */
    if (wcschr(s->argv[0], L'"'))
        return WEFT_EINVAL;
    if (opts->env && (status = convert_env(s, opts->env)) != WEFT_OK)
        return status;
    if (opts->cwd && (status = weft__win32_utf16(opts->cwd, &s->cwd)) != WEFT_OK)
        return status;

    /* The program is found here, never by CreateProcessW, whose search
     * starts in the current directory. A relative path is taken relative
     * to the parent's current directory, not to opts->cwd: that is how
     * CreateProcessW reads a relative lpApplicationName, and the only
     * reading that does not depend on where the child will start. */
    if ((status = search_variable(s, L"PATH", &s->path, &path)) != WEFT_OK ||
        (status = search_variable(s, L"PATHEXT", &s->pathext, &pathext)) != WEFT_OK ||
        (status = weft__win32_find_program(s->argv[0], path, pathext, &s->program)) != WEFT_OK)
        return status;
    /* Windows runs a batch file only through cmd.exe, and the CreateProcessW
     * documentation asks for cmd.exe to be started explicitly. (Given the
     * script as lpApplicationName, CreateProcessW starts cmd.exe itself, by
     * a legacy special case, on the command line as written: cmd.exe then
     * reads the program from argv[0], not from the path found here.) So it
     * is the system's cmd.exe, given the script's full path. */
    if (weft__win32_is_batch(s->program) && (status = system_cmd(&s->cmd_exe)) != WEFT_OK)
        return status;

    if ((status = handles(s, opts)) != WEFT_OK ||
        (status = weft__win32_command_line(s->program, (const wchar_t *const *)s->argv,
                                           s->argc + opts->pass_count, &s->cmdline)) != WEFT_OK)
        return status;
    if (opts->inherit_env && opts->inherit_count > 0 &&
        (status = add_inherit_env(s, opts)) != WEFT_OK)
        return status;
    if (s->env && (status = make_block(s)) != WEFT_OK)
        return status;
    if (s->ninherit > 0 && (status = attribute_list(s)) != WEFT_OK)
        return status;
    return WEFT_OK;
}

int weft_sys_spawn(weft_sys_child *out, const weft_sys_spawn_opts *opts)
{
    spawn s;
    STARTUPINFOEXW si;
    PROCESS_INFORMATION pi;
    DWORD flags = CREATE_UNICODE_ENVIRONMENT;
    int status;

    memset(&s, 0, sizeof s);
    status = prepare_spawn(&s, opts);
    if (status == WEFT_OK) {
        memset(&si, 0, sizeof si);
        si.StartupInfo.cb = (DWORD)(s.attributes ? sizeof si : sizeof si.StartupInfo);
        /* Always: a NULL handle then means the child has none, instead of
         * one Windows would pick for a console program. */
        si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
        si.StartupInfo.hStdInput = s.std[0];
        si.StartupInfo.hStdOutput = s.std[1];
        si.StartupInfo.hStdError = s.std[2];
        si.lpAttributeList = s.attributes;
        if (s.attributes)
            flags |= EXTENDED_STARTUPINFO_PRESENT;
        if (opts->new_process_group)
            flags |= CREATE_NEW_PROCESS_GROUP;
        if (CreateProcessW(s.cmd_exe ? s.cmd_exe : s.program, s.cmdline, NULL, NULL,
                           s.attributes != NULL, flags, s.block, s.cwd, &si.StartupInfo, &pi)) {
            CloseHandle(pi.hThread);
            out->pid = (int64_t)pi.dwProcessId;
            out->handle = (intptr_t)pi.hProcess;
        } else {
            status = weft__status_from_win32(GetLastError());
        }
    }
    release(&s); /* also closes the parent's copies of the inherited duplicates */
    return status;
}

weft_sys_file weft_sys_file_from_name(const char *name)
{
    uintptr_t v = 0;

    if (!name || !*name)
        return WEFT__NO_FILE;
    for (; *name; name++) {
        unsigned d = (unsigned)(*name - '0');

        if (*name < '0' || *name > '9' || v > ((uintptr_t)INTPTR_MAX - d) / 10)
            return WEFT__NO_FILE;
        v = v * 10 + d;
    }
    return v > 0 ? (weft_sys_file)v : WEFT__NO_FILE;
}

/* Skip argv[0] as the C runtime parses it (up to the closing quote when it
 * starts with one, else up to a space or tab: no escapes there), then the
 * blanks; `marker` (plain ASCII) must follow, ended by a blank or the end. */
bool weft_sys_first_argument_is(const char *marker)
{
    const wchar_t *p = GetCommandLineW();
    size_t i;

    if (*p == L'"') {
        for (p++; *p && *p != L'"'; p++) {
        }
        if (*p)
            p++;
    } else {
        while (*p && *p != L' ' && *p != L'\t')
            p++;
    }
    while (*p == L' ' || *p == L'\t')
        p++;
    for (i = 0; marker[i]; i++) {
        if (p[i] != (wchar_t)(unsigned char)marker[i])
            return false;
    }
    return p[i] == L'\0' || p[i] == L' ' || p[i] == L'\t';
}

/* ---- Waiting and ending -------------------------------------------------------- */

void weft_sys_child_open(weft_sys_child *child)
{
    (void)child; /* the process handle came with the child */
}

int weft__win32_wait_handle(HANDLE h, int64_t deadline_ns)
{
    for (;;) {
        DWORD ms = weft__win32_ms_until(deadline_ns), r;

        r = WaitForSingleObject(h, ms);
        if (r == WAIT_OBJECT_0)
            return WEFT_OK;
        if (r != WAIT_TIMEOUT)
            return weft__os_error((int)GetLastError());
        /* The timer may end a wait a little early: only a zero wait that
         * timed out proves the deadline has passed. */
        if (ms == 0)
            return WEFT_ETIMEDOUT;
    }
}

int weft_sys_child_wait(const weft_sys_child *child, int64_t deadline_ns)
{
    return weft__win32_wait_handle((HANDLE)child->handle, deadline_ns);
}

int weft_sys_child_reap(weft_sys_child *child, int *code)
{
    HANDLE h = (HANDLE)child->handle;
    DWORD exit_code;

    /* Not GetExitCodeProcess alone: a process may exit with STILL_ACTIVE
     * (259) as its code. */
    switch (WaitForSingleObject(h, 0)) {
    case WAIT_OBJECT_0:
        break;
    case WAIT_TIMEOUT:
        return WEFT_EAGAIN;
    default:
        return weft__os_error((int)GetLastError());
    }
    if (!GetExitCodeProcess(h, &exit_code))
        return weft__os_error((int)GetLastError());
    /* Codes above INT_MAX (NTSTATUS values such as 0xC0000005) come out
     * negative, as the same bits. */
    *code = (int)exit_code;
    return WEFT_OK;
}

int weft_sys_child_signal(const weft_sys_child *child, bool kill)
{
    HANDLE h = (HANDLE)child->handle;
    DWORD err;

    (void)kill; /* Windows has one way to end another process */
    if (TerminateProcess(h, 1))
        return WEFT_OK;
    err = GetLastError();
    /* TerminateProcess on a process that has ended fails with
     * ERROR_ACCESS_DENIED. */
    if (err == ERROR_ACCESS_DENIED && WaitForSingleObject(h, 0) == WAIT_OBJECT_0)
        return WEFT_OK;
    return weft__os_error((int)err);
}

int weft_sys_child_send_signal(const weft_sys_child *child, int sig, bool new_group)
{
    if (sig == SIGTERM)
        return weft_sys_child_signal(child, false);
    if (sig != CTRL_C_EVENT && sig != CTRL_BREAK_EVENT)
        return weft__fail(WEFT_EINVAL,
                          "popen_send_signal: %d is not a signal Windows can send: only SIGTERM "
                          "(%d), CTRL_C_EVENT (%d) and CTRL_BREAK_EVENT (%d)",
                          sig, SIGTERM, (int)CTRL_C_EVENT, (int)CTRL_BREAK_EVENT);
    /* The group is named by its leader's pid; given a process that leads
     * none, the event would reach every process on the console, this one
     * too. */
    if (!new_group)
        return weft__fail(WEFT_EINVAL,
                          "popen_send_signal: a console event (%d) goes only to a child started "
                          "with new_process_group", sig);
    if (!GenerateConsoleCtrlEvent((DWORD)sig, (DWORD)child->pid)) {
        DWORD err = GetLastError();

        weft__os_error((int)err);
        return weft__fail(WEFT_EOS, "popen_send_signal: GenerateConsoleCtrlEvent(%d, %lu) "
                                    "failed (error %lu)",
                          sig, (unsigned long)child->pid, (unsigned long)err);
    }
    return WEFT_OK;
}

void weft_sys_child_close(weft_sys_child *child)
{
    CloseHandle((HANDLE)child->handle);
    child->handle = -1;
}

/* ---- The running process ------------------------------------------------------- */

int64_t weft_sys_getpid(void)
{
    return (int64_t)GetCurrentProcessId();
}

/* The longest path Windows has: a UNICODE_STRING's 32767 units and a NUL. */
#define LONGEST_PATH 32768

int weft_sys_executable_path(char **out)
{
    DWORD size = MAX_PATH;

    for (;;) {
        wchar_t *buf = weft__malloc((size_t)size * sizeof *buf);
        DWORD n;
        int status;

        if (!buf)
            return WEFT_ENOMEM;
        /* The result fills the whole buffer (truncated, on Windows 10 with
         * its NUL) when the buffer is too small. */
        n = GetModuleFileNameW(NULL, buf, size);
        if (n < size) {
            status = n == 0 ? weft__status_from_win32(GetLastError()) : weft__win32_utf8(buf, out);
            weft__free(buf);
            return status;
        }
        weft__free(buf);
        if (size >= LONGEST_PATH)
            return weft__os_error((int)ERROR_INSUFFICIENT_BUFFER);
        size *= 2;
    }
}
