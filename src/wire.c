/* SPDX-License-Identifier: MIT */
/*
 * The messages between a parent and the children it starts, read and
 * written here only: a call (a target's name and its argument bytes: the
 * spawn method's start message, a pool's task; an empty name tells a pool
 * worker to stop) and a result (a pool task's status, value and reply
 * bytes). Both processes run the same executable, so the headers are in
 * native byte order.
 */
#include "processes.h"
#include "ipc/ipc.h"

#include <stdint.h>
#include <string.h>

enum { MAGIC = 0x74666577u /* "weft" */ };

/* Longest target name a child accepts: a bad header must not make it
 * allocate without bound. */
enum { NAME_MAX_LEN = 4096 };

typedef struct call_header {
    uint64_t magic;
    uint64_t name_len; /* 0: a pool worker's stop */
    uint64_t len;
} call_header;

typedef struct result_header {
    int32_t status; /* WEFT_OK, or WEFT_ENOENT for a target the worker lacks */
    int32_t value;
    uint64_t len;
} result_header;

/* Read exactly len bytes: WEFT_OK, WEFT_ECHILD at the end of the file (the
 * writer is gone), or WEFT_EOS. */
static int read_exact(weft_sys_file f, void *buf, size_t len)
{
    char *p = buf;
    size_t got;
    int rc;

    while (len > 0) {
        rc = weft_sys_read(f, p, len, &got);
        if (rc != WEFT_OK)
            return rc;
        if (got == 0)
            return WEFT_ECHILD;
        p += got;
        len -= got;
    }
    return WEFT_OK;
}

/* Write exactly len bytes: WEFT_OK, WEFT_ECHILD when the reader is gone
 * (broken pipe), or WEFT_EOS. */
static int write_exact(weft_sys_file f, const void *buf, size_t len)
{
    int rc = len > 0 ? weft_sys_write(f, buf, len) : WEFT_OK;

    return rc == WEFT_ESHUTDOWN ? WEFT_ECHILD : rc;
}

int weft__wire_send_call(weft_sys_file f, const char *name, const void *arg, size_t len)
{
    size_t name_len = strlen(name);
    call_header header = {MAGIC, name_len, len};
    int rc;

    /* A name over NAME_MAX_LEN goes too: the receiver refuses it. */
    rc = write_exact(f, &header, sizeof header);
    if (rc == WEFT_OK)
        rc = write_exact(f, name, name_len);
    if (rc == WEFT_OK)
        rc = write_exact(f, arg, len);
    return rc;
}

int weft__wire_receive_call(weft_sys_file f, weft__wire_call *call)
{
    call_header header;
    int rc = read_exact(f, &header, sizeof header);

    *call = (weft__wire_call){NULL, NULL, 0};
    if (rc != WEFT_OK)
        return rc;
    if (header.magic != MAGIC || header.name_len > NAME_MAX_LEN || header.len > SIZE_MAX - 1)
        return WEFT_EINVAL;
    call->name = weft__malloc((size_t)header.name_len + 1);
    call->arg = weft__malloc((size_t)header.len + 1);
    rc = call->name && call->arg ? WEFT_OK : WEFT_ENOMEM;
    if (rc == WEFT_OK)
        rc = read_exact(f, call->name, (size_t)header.name_len);
    if (rc == WEFT_OK)
        rc = read_exact(f, call->arg, (size_t)header.len);
    if (rc != WEFT_OK) {
        weft__wire_call_free(call);
        return rc;
    }
    call->name[header.name_len] = '\0';
    call->len = (size_t)header.len;
    return WEFT_OK;
}

void weft__wire_call_free(weft__wire_call *call)
{
    weft__free(call->name);
    weft__free(call->arg);
    *call = (weft__wire_call){NULL, NULL, 0};
}

int weft__wire_send_result(weft_sys_file f, int status, int value, const void *data, size_t len)
{
    result_header header = {status, value, len};
    int rc = write_exact(f, &header, sizeof header);

    return rc == WEFT_OK ? write_exact(f, data, len) : rc;
}

int weft__wire_receive_result(weft_sys_file f, weft_pool_result *r)
{
    result_header header;
    int rc = read_exact(f, &header, sizeof header);

    if (rc != WEFT_OK)
        return rc;
    if (header.len > SIZE_MAX - 1)
        return WEFT_ECHILD;
    if (header.len > 0) {
        r->data = weft__malloc((size_t)header.len);
        if (!r->data)
            return WEFT_ENOMEM;
        rc = read_exact(f, r->data, (size_t)header.len);
        if (rc != WEFT_OK) {
            weft__free(r->data);
            r->data = NULL;
            return rc;
        }
    }
    r->len = (size_t)header.len;
    r->value = header.value;
    r->status = header.status;
    return WEFT_OK;
}

/* The handoffs after a spawned child's start message: a count, then each
 * handoff as it lies in memory (the same executable reads it). */
enum { HANDOFFS_MAGIC = 0x73736170u /* "pass" */, HANDOFFS_MAX = 65536 };

typedef struct handoffs_header {
    uint64_t magic;
    uint64_t count;
} handoffs_header;
_Static_assert(WEFT__WIRE_HANDOFFS_SIZE(1) == sizeof(handoffs_header) + sizeof(weft__ipc_handoff),
               "WEFT__WIRE_HANDOFFS_SIZE must count what weft__wire_send_handoffs writes");

int weft__wire_send_handoffs(weft_sys_file f, const weft__ipc_handoff *items, size_t count)
{
    handoffs_header header = {HANDOFFS_MAGIC, count};
    int rc = write_exact(f, &header, sizeof header);

    return rc == WEFT_OK ? write_exact(f, items, count * sizeof *items) : rc;
}

int weft__wire_receive_handoffs(weft_sys_file f, weft__ipc_handoff **items, size_t *count)
{
    handoffs_header header;
    weft__ipc_handoff *got = NULL;
    size_t i;
    int rc = read_exact(f, &header, sizeof header);

    *items = NULL;
    *count = 0;
    if (rc != WEFT_OK)
        return rc;
    if (header.magic != HANDOFFS_MAGIC || header.count > HANDOFFS_MAX)
        return WEFT_EINVAL;
    if (header.count > 0) {
        got = weft__malloc((size_t)header.count * sizeof *got);
        if (!got)
            return WEFT_ENOMEM;
        rc = read_exact(f, got, (size_t)header.count * sizeof *got);
    }
    for (i = 0; rc == WEFT_OK && i < header.count; i++)
        if (got[i].nfiles > WEFT__IPC_MAX_FILES || got[i].desc_len > WEFT__IPC_DESC_MAX)
            rc = WEFT_EINVAL;
    if (rc != WEFT_OK) {
        weft__free(got);
        return rc;
    }
    *items = got;
    *count = (size_t)header.count;
    return WEFT_OK;
}

/* This process's channel with its parent, when weft started it to run an
 * internal target. */
static weft_sys_file parent_in = WEFT__NO_FILE, parent_out = WEFT__NO_FILE;

void weft__wire_set_parent(weft_sys_file in, weft_sys_file out)
{
    parent_in = in;
    parent_out = out;
}

void weft__wire_parent(weft_sys_file *in, weft_sys_file *out)
{
    *in = parent_in;
    *out = parent_out;
}
