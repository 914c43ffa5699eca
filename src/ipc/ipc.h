/* SPDX-License-Identifier: MIT */
/*
 * The objects of weft/ipc.h (part of the process layer, HACKING.md), and
 * what every one of them provides so that process.c can hand it to a child.
 */
#ifndef WEFT_IPC_INTERNAL_H
#define WEFT_IPC_INTERNAL_H

#include "../processes.h"
#include "../sys/conn.h"
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
 * describe it (a connection's read-ahead buffer is sized by it: what it
 * holds goes to the child in the description). */
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

/* Each kind's own export and import (the dispatch above calls them by the
 * head's kind; same contracts). */
int weft__conn_export(const weft_conn *conn, weft__ipc_handoff *out);
int weft__conn_import(const weft__ipc_handoff *in, void **out);

/* In a forked child, before it takes the ends passed to it: close this
 * process's copy of every end (the parent's), which then refuses every
 * call but close. A kind that holds OS files provides one. */
void weft__conn_drop_inherited(void);

/* The registry's part of the fork handlers (weft__ipc_at_fork). */
void weft__conn_at_fork(weft__fork_step step);

/* ---- The handles of one start (pass.c) --------------------------------------- */

/* What a start hands its child: each handle's handoff, and all their files
 * in one array, in order (what the spawn inherits). */
typedef struct weft__ipc_pass {
    weft__ipc_handoff *items;
    size_t count;
    weft_sys_file *files;
    size_t nfiles;
} weft__ipc_pass;

/* Export the n handles (weft_process_opts.pass, weft_popen_opts.pass)
 * into *p. Returns WEFT_OK, WEFT_EINVAL (NULL `handles` with n > 0, or an
 * entry that is not an open handle) or WEFT_ENOMEM, with a message naming
 * the entry; *p is empty on failure. */
int weft__ipc_pass_export(weft__ipc_pass *p, const void *const *handles, size_t n);

/* The spawned child finds p->files[i] under in_child[i]: make the
 * handoffs name those. */
void weft__ipc_pass_rename(weft__ipc_pass *p, const weft_sys_file *in_child);

void weft__ipc_pass_free(weft__ipc_pass *p);

/* In a child: make the passed handles (weft_process_passed) from the
 * handoffs read from the parent (spawn), or from the parent's handles
 * themselves (fork: each on duplicates of their files, after every handle
 * of the parent has let go of its own; done in every forked child, with
 * n == 0 too). Returns WEFT_OK, or the first failure with a message (the
 * handles made so far stay). */
int weft__ipc_adopt(const weft__ipc_handoff *items, size_t count);
int weft__ipc_adopt_forked(const void *const *handles, size_t n);

/* ---- The handoffs on the wire (wire.c) ---------------------------------------- */

/* Write the count handoffs after a spawned child's start message; read
 * them back in the child into *items (weft__malloc; NULL when none).
 * Same statuses as the call's (processes.h); WEFT_EINVAL for bytes that
 * are not handoffs. */
int weft__wire_send_handoffs(weft_sys_file f, const weft__ipc_handoff *items, size_t count);
/* How many bytes weft__wire_send_handoffs writes for `count` handoffs. */
#define WEFT__WIRE_HANDOFFS_SIZE(count) (2 * sizeof(uint64_t) + (count) * sizeof(weft__ipc_handoff))
int weft__wire_receive_handoffs(weft_sys_file f, weft__ipc_handoff **items, size_t *count);

#endif /* WEFT_IPC_INTERNAL_H */
