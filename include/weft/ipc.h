/* SPDX-License-Identifier: MIT */
/**
 * \file weft/ipc.h
 * \brief Between processes: the other half of Python's multiprocessing
 *        (Pipe, Queue, shared_memory, Lock, Semaphore, Event), and handing
 *        those objects to a child.
 *
 * Every object here works in a fork child and can be handed to a child
 * started by either method (weft_process_opts.pass), on POSIX and Windows;
 * none needs a server process. Handles are opaque, made by `*_create` or
 * weft_pipe(), and freed in the calling process by `*_close`: the object
 * itself lives on while another process holds it.
 */
#ifndef WEFT_IPC_H
#define WEFT_IPC_H

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Connections (multiprocessing.Pipe) ---------------------------------- */

/* ---- Shared memory (multiprocessing.shared_memory) ------------------------ */

/* ---- Locks between processes (multiprocessing.Lock, Semaphore, Event) ----- */

/* ---- Handing objects to a child ------------------------------------------- */

#ifdef __cplusplus
}
#endif

#endif /* WEFT_IPC_H */
