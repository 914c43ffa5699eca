/* SPDX-License-Identifier: MIT */
/*
 * multiprocessing.shared_memory.SharedMemory over the backend's shared
 * memory (sys/shm.h): the name rule, fresh names, and the description a
 * child is handed (the size and the name; the file goes as a file).
 */
#include "ipc.h"
#include "../sys/shm.h"

#include <stdio.h>
#include <string.h>

struct weft_shm {
    weft__ipc_head head;
    weft_sys_shm sys;
    char name[WEFT_SHM_NAME_MAX + 1];
};

/* The name without its optional leading '/' (in *bare), or WEFT_EINVAL
 * with a message naming `call`. */
static int shm_check_name(const char *call, const char *name, const char **bare)
{
    size_t len;

    if (!name)
        return weft__fail(WEFT_EINVAL, "%s: the name is NULL", call);
    if (name[0] == '/')
        name++;
    len = strlen(name);
    if (len == 0)
        return weft__fail(WEFT_EINVAL, "%s: the name is empty", call);
    if (len > WEFT_SHM_NAME_MAX)
        return weft__fail(WEFT_EINVAL, "%s: the name \"%.40s...\" has %zu bytes, more than %d", call,
                          name, len, WEFT_SHM_NAME_MAX);
    if (strpbrk(name, "/\\"))
        return weft__fail(WEFT_EINVAL, "%s: the name \"%s\" holds a '/' or '\\' past its start", call,
                          name);
    *bare = name;
    return WEFT_OK;
}

static int shm_make_handle(weft_shm **out, const char *call)
{
    *out = weft__calloc(1, sizeof **out);
    if (!*out)
        return weft__fail(WEFT_ENOMEM, "%s: no memory for the handle", call);
    (*out)->head.kind = WEFT__IPC_SHM;
    WEFT__HANDLE_BORN(*out, "shm");
    return WEFT_OK;
}

/* Create under a fresh name: weft's process id and a count, mixed with the
 * clock so that another process's earlier block of the same pid (a name
 * nobody unlinked) is unlikely to be hit; a taken name is passed over. */
static int shm_create_fresh(weft_shm *shm, size_t size)
{
    static uint32_t counter;
    int tries, rc = WEFT_EEXIST;

    for (tries = 0; tries < 16 && rc == WEFT_EEXIST; tries++) {
        uint64_t t = (uint64_t)weft_sys_monotonic_ns();
        uint32_t n = weft__fetch_add(&counter, 1);

        snprintf(shm->name, sizeof shm->name, "wsm_%x_%x", (unsigned)weft_sys_getpid(),
                 (unsigned)((t ^ (t >> 32)) * 2654435761u + n));
        rc = weft_sys_shm_create(&shm->sys, shm->name, size);
    }
    return rc;
}

int weft_shm_create(weft_shm **out, const char *name, size_t size)
{
    weft_shm *shm;
    const char *bare = NULL;
    int rc;

    if (!out)
        return weft__fail(WEFT_EINVAL, "shm_create: out is NULL");
    if (name && (rc = shm_check_name("shm_create", name, &bare)) != WEFT_OK)
        return rc;
    if (size == 0)
        return weft__fail(WEFT_EINVAL, "shm_create: the size is 0");
    if (size > (size_t)PTRDIFF_MAX)
        return weft__fail(WEFT_ENOMEM, "shm_create: %zu bytes are more than a process can map", size);
    rc = shm_make_handle(&shm, "shm_create");
    if (rc != WEFT_OK)
        return rc;
    if (bare) {
        memcpy(shm->name, bare, strlen(bare) + 1);
        rc = weft_sys_shm_create(&shm->sys, bare, size);
    } else {
        rc = shm_create_fresh(shm, size);
    }
    if (rc != WEFT_OK) {
        WEFT__HANDLE_GONE(shm);
        weft__free(shm);
        return rc;
    }
    *out = shm;
    return WEFT_OK;
}

int weft_shm_open(weft_shm **out, const char *name)
{
    weft_shm *shm;
    const char *bare = NULL;
    int rc;

    if (!out)
        return weft__fail(WEFT_EINVAL, "shm_open: out is NULL");
    rc = shm_check_name("shm_open", name, &bare);
    if (rc == WEFT_OK)
        rc = shm_make_handle(&shm, "shm_open");
    if (rc != WEFT_OK)
        return rc;
    memcpy(shm->name, bare, strlen(bare) + 1);
    rc = weft_sys_shm_open(&shm->sys, bare);
    if (rc != WEFT_OK) {
        WEFT__HANDLE_GONE(shm);
        weft__free(shm);
        return rc;
    }
    *out = shm;
    return WEFT_OK;
}

void *weft_shm_ptr(weft_shm *shm)
{
    return shm && !WEFT__HANDLE_DEAD(shm, "shm") ? shm->sys.ptr : NULL;
}

size_t weft_shm_size(const weft_shm *shm)
{
    return shm && !WEFT__HANDLE_DEAD(shm, "shm") ? shm->sys.size : 0;
}

const char *weft_shm_name(const weft_shm *shm)
{
    return shm && !WEFT__HANDLE_DEAD(shm, "shm") ? shm->name : NULL;
}

void weft_shm_close(weft_shm *shm)
{
    if (!shm || WEFT__HANDLE_DEAD(shm, "shm"))
        return;
    weft_sys_shm_close(&shm->sys);
    WEFT__HANDLE_GONE(shm);
    weft__free(shm);
}

int weft_shm_unlink(const char *name)
{
    const char *bare = NULL;
    int rc = shm_check_name("shm_unlink", name, &bare);

    return rc == WEFT_OK ? weft_sys_shm_unlink(bare) : rc;
}

/* ---- Handing to a child -------------------------------------------------------- */

/* The description: the mapped size (8 bytes, this machine's order: parent
 * and child run on the same machine), then the name and its NUL. */
int weft__shm_export(const weft_shm *shm, weft__ipc_handoff *out)
{
    uint64_t size = shm->sys.size;
    size_t name_len = strlen(shm->name) + 1;

    memset(out, 0, sizeof *out);
    out->kind = WEFT__IPC_SHM;
    out->files[0] = shm->sys.file;
    out->nfiles = 1;
    memcpy(out->desc, &size, sizeof size);
    memcpy(out->desc + sizeof size, shm->name, name_len);
    out->desc_len = sizeof size + name_len;
    return WEFT_OK;
}

int weft__shm_import(const weft__ipc_handoff *in, void **out)
{
    weft_shm *shm;
    uint64_t size;
    size_t name_len;
    int rc;

    if (in->kind != WEFT__IPC_SHM || in->nfiles != 1 || in->desc_len <= sizeof size ||
        in->desc_len > sizeof size + WEFT_SHM_NAME_MAX + 1 || in->desc[in->desc_len - 1] != '\0')
        return weft__fail(WEFT_EINVAL, "shm: the description handed over is not a shm's");
    memcpy(&size, in->desc, sizeof size);
    name_len = in->desc_len - sizeof size;
    if (size == 0 || size > (size_t)PTRDIFF_MAX || strlen((const char *)in->desc + sizeof size) + 1 != name_len)
        return weft__fail(WEFT_EINVAL, "shm: the description handed over is not a shm's");
    rc = shm_make_handle(&shm, "shm (handed over)");
    if (rc != WEFT_OK)
        return rc;
    memcpy(shm->name, in->desc + sizeof size, name_len);
    rc = weft_sys_shm_adopt(&shm->sys, in->files[0], (size_t)size);
    if (rc != WEFT_OK) {
        WEFT__HANDLE_GONE(shm);
        weft__free(shm);
        return rc;
    }
    *out = shm;
    return WEFT_OK;
}
