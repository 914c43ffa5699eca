/* SPDX-License-Identifier: MIT */
/*
 * Handing handles of weft/ipc.h to a child (weft_process_opts.pass,
 * weft_popen_opts.pass): the dispatch by kind to each kind's export and
 * import, the handoffs of one start, and the child's side,
 * weft_process_passed.
 */
#include "ipc.h"

#include <string.h>

int weft__ipc_export(const void *handle, weft__ipc_handoff *out)
{
    const weft__ipc_head *head = handle;
    size_t i;

    memset(out, 0, sizeof *out);
    for (i = 0; i < WEFT__IPC_MAX_FILES; i++)
        out->files[i] = WEFT__NO_FILE;
    if (!handle)
        return weft__fail(WEFT_EINVAL, "a NULL handle to pass");
    out->kind = head->kind;
    switch (head->kind) {
    case WEFT__IPC_CONN:
        return weft__conn_export(handle, out);
    case WEFT__IPC_SHM:
        return weft__shm_export(handle, out);
    case WEFT__IPC_PLOCK:
        return weft__plock_export(handle, out);
    case WEFT__IPC_PSEM:
        return weft__psem_export(handle, out);
    case WEFT__IPC_PEVENT:
        return weft__pevent_export(handle, out);
    case WEFT__IPC_PQUEUE:
        return weft__pqueue_export(handle, out);
    default:
        return weft__fail(WEFT_EINVAL, "%p is not an open handle of weft/ipc.h", handle);
    }
}

int weft__ipc_import(const weft__ipc_handoff *in, void **out)
{
    switch (in->kind) {
    case WEFT__IPC_CONN:
        return weft__conn_import(in, out);
    case WEFT__IPC_SHM:
        return weft__shm_import(in, out);
    case WEFT__IPC_PLOCK:
        return weft__plock_import(in, out);
    case WEFT__IPC_PSEM:
        return weft__psem_import(in, out);
    case WEFT__IPC_PEVENT:
        return weft__pevent_import(in, out);
    case WEFT__IPC_PQUEUE:
        return weft__pqueue_import(in, out);
    default:
        return weft__fail(WEFT_EINVAL, "process_passed: an object of kind 0x%08lx, which this "
                                       "weft does not know",
                          (unsigned long)in->kind);
    }
}

/* ---- The handles of one start ------------------------------------------------------ */

void weft__ipc_pass_free(weft__ipc_pass *p)
{
    weft__free(p->items);
    weft__free(p->files);
    *p = (weft__ipc_pass){NULL, 0, NULL, 0};
}

int weft__ipc_pass_export(weft__ipc_pass *p, const void *const *handles, size_t n)
{
    size_t i, j;
    int rc;

    *p = (weft__ipc_pass){NULL, 0, NULL, 0};
    if (n == 0)
        return WEFT_OK;
    if (!handles)
        return weft__fail(WEFT_EINVAL, "NULL pass with npass %zu", n);
    if (n > SIZE_MAX / sizeof *p->items / WEFT__IPC_MAX_FILES)
        return weft__fail(WEFT_ENOMEM, "npass %zu is too many", n);
    p->items = weft__calloc(n, sizeof *p->items);
    p->files = weft__calloc(n * WEFT__IPC_MAX_FILES, sizeof *p->files);
    if (!p->items || !p->files) {
        weft__ipc_pass_free(p);
        return weft__fail(WEFT_ENOMEM, "no memory for %zu passed handles", n);
    }
    for (i = 0; i < n; i++) {
        rc = weft__ipc_export(handles[i], &p->items[i]);
        if (rc != WEFT_OK) {
            weft__ipc_pass_free(p);
            return weft__fail_wrap(rc, "pass[%zu]", i);
        }
        for (j = 0; j < p->items[i].nfiles; j++)
            p->files[p->nfiles++] = p->items[i].files[j];
    }
    p->count = n;
    return WEFT_OK;
}

void weft__ipc_pass_rename(weft__ipc_pass *p, const weft_sys_file *in_child)
{
    size_t i, j, k = 0;

    for (i = 0; i < p->count; i++)
        for (j = 0; j < p->items[i].nfiles; j++)
            p->items[i].files[j] = in_child[k++];
}

/* ---- The child's side ------------------------------------------------------------------ */

/* The handles this process was given, set before its target runs and only
 * read afterwards. */
static void **passed;
static size_t passed_count;

static int adopt_one(const weft__ipc_handoff *in)
{
    void **grown = weft__realloc(passed, (passed_count + 1) * sizeof *passed);
    int rc;

    if (!grown)
        return weft__fail(WEFT_ENOMEM, "process_passed: no memory for the passed handles");
    passed = grown;
    rc = weft__ipc_import(in, &passed[passed_count]);
    if (rc == WEFT_OK)
        passed_count++;
    return rc;
}

int weft__ipc_adopt(const weft__ipc_handoff *items, size_t count)
{
    size_t i;
    int rc = WEFT_OK;

    for (i = 0; i < count && rc == WEFT_OK; i++)
        rc = adopt_one(&items[i]);
    return rc;
}

void weft__ipc_at_fork(weft__fork_step step)
{
    weft__conn_at_fork(step);
}

int weft__ipc_adopt_forked(const void *const *handles, size_t n)
{
    weft__ipc_handoff *items = NULL;
    size_t i, j;
    int rc = WEFT_OK;

    /* First the child's own duplicates of the passed handles' files, then
     * every handle of the parent lets go of its files (nothing else is
     * inherited, as with spawn), then the passed ones are made. A failure
     * may leave duplicates open: the child then ends at once (process.c). */
    if (n > 0 && (items = weft__calloc(n, sizeof *items)) == NULL)
        rc = weft__fail(WEFT_ENOMEM, "process_passed: no memory for %zu handles", n);
    for (i = 0; i < n && rc == WEFT_OK; i++) {
        rc = weft__ipc_export(handles[i], &items[i]);
        for (j = 0; rc == WEFT_OK && j < items[i].nfiles; j++)
            rc = weft_sys_file_dup(items[i].files[j], &items[i].files[j]);
    }
    weft__conn_drop_inherited();
    for (i = 0; i < n && rc == WEFT_OK; i++)
        rc = adopt_one(&items[i]);
    weft__free(items);
    return rc;
}

void *weft_process_passed(size_t i)
{
    return i < passed_count ? passed[i] : NULL;
}
