/* SPDX-License-Identifier: MIT */
/*
 * The objects of weft/ipc.h (part of the process layer, HACKING.md), and
 * what every one of them provides so that process.c can hand it to a child.
 */
#ifndef WEFT_IPC_INTERNAL_H
#define WEFT_IPC_INTERNAL_H

#include "../processes.h"
#include "../../include/weft/ipc.h"

/* ---- Handing an object to a child ---------------------------------------- */

/* The first member of every handle of weft/ipc.h: a handle given as
 * `const void *` (weft_process_opts.pass) is told apart by it. Each kind is
 * a distinct non-zero number, so that a pointer to something else is
 * refused (WEFT_EINVAL) rather than misread in the common case. */
typedef enum weft__ipc_kind {
    WEFT__IPC_CONN = 0x77630001,
    WEFT__IPC_SHM = 0x77630002,
    WEFT__IPC_PLOCK = 0x77630003,
    WEFT__IPC_PSEM = 0x77630004,
    WEFT__IPC_PEVENT = 0x77630005,
    WEFT__IPC_PQUEUE = 0x77630006
} weft__ipc_kind;

typedef struct weft__ipc_head {
    uint32_t kind; /* a weft__ipc_kind */
} weft__ipc_head;

/* The most OS files one object hands to a child, and the most bytes that
 * describe it. */
#define WEFT__IPC_MAX_FILES 4
#define WEFT__IPC_DESC_MAX 256

/* What a handle gives a child: the OS files the child inherits (exactly
 * these, nothing else), and bytes the child's side reads back. */
typedef struct weft__ipc_handoff {
    uint32_t kind;
    weft_sys_file files[WEFT__IPC_MAX_FILES];
    size_t nfiles;
    unsigned char desc[WEFT__IPC_DESC_MAX];
    size_t desc_len;
} weft__ipc_handoff;

/* Fill *out for `handle`. Returns WEFT_OK, or WEFT_EINVAL (not a handle of
 * weft/ipc.h, or a closed one) with a message. The files stay owned by the
 * handle. */
int weft__ipc_export(const void *handle, weft__ipc_handoff *out);

/* In the child: make the handle that `in` describes, whose files are the
 * child's own now (in->files holds their numbers in the child). Returns
 * WEFT_OK, WEFT_EINVAL (a description this build does not know) or
 * WEFT_ENOMEM, with a message. */
int weft__ipc_import(const weft__ipc_handoff *in, void **out);

/* Each kind's part of the two calls above: the same contract, for a handle
 * already known to be of that kind. A handle's files are handed as they
 * are: the import owns in->files on WEFT_OK (nothing on failure). */
int weft__shm_export(const weft_shm *shm, weft__ipc_handoff *out);    /* ipc/shm.c */
int weft__shm_import(const weft__ipc_handoff *in, void **out);
int weft__plock_export(const weft_plock *lock, weft__ipc_handoff *out); /* ipc/plock.c */
int weft__plock_import(const weft__ipc_handoff *in, void **out);
int weft__psem_export(const weft_psem *sem, weft__ipc_handoff *out);
int weft__psem_import(const weft__ipc_handoff *in, void **out);
int weft__pevent_export(const weft_pevent *event, weft__ipc_handoff *out);
int weft__pevent_import(const weft__ipc_handoff *in, void **out);
/* ipc/pqueue.c: four files (the block, the lock, two semaphores). Its
 * import owns in->files on failure as well (it closes them), since a
 * failure after adopting some of them cannot hand those back. */
int weft__pqueue_export(const weft_pqueue *q, weft__ipc_handoff *out);
int weft__pqueue_import(const weft__ipc_handoff *in, void **out);

#endif /* WEFT_IPC_INTERNAL_H */
