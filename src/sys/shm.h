/* SPDX-License-Identifier: MIT */
/*
 * Shared memory: posix/shm.c, win32/shm.c; used by the process layer
 * (ipc/shm.c) and by the backend's own locks between processes
 * (posix/plock.c keeps their words in a nameless mapping).
 */
#ifndef WEFT_SYS_SHM_H
#define WEFT_SYS_SHM_H

#include "base.h"
#include "file.h"

/* ---- Shared memory -------------------------------------------------------------- */

/* A mapped shared memory object. `file` (a descriptor from shm_open, a
 * section HANDLE) stays open while it is mapped: it is what a child is
 * handed. */
typedef struct weft_sys_shm {
    void *ptr;          /* page-aligned */
    size_t size;        /* bytes mapped */
    weft_sys_file file; /* close-on-exec / not inheritable */
} weft_sys_shm;

/* Create a shared memory object of `size` bytes (> 0), zero-filled, and map
 * it. `name` (1 to WEFT_SHM_NAME_MAX bytes, no '/' or '\\': common code
 * checks it) becomes the OS's name, "/name" (POSIX) or "Local\\name"
 * (Windows); NULL makes an object without a name, reachable only through
 * its file. All the memory is reserved here, so that touching it later can
 * never fault for want of room. Returns WEFT_OK; WEFT_EEXIST (the name is
 * taken); WEFT_ENOMEM (no room for `size` bytes, or more than a file can
 * hold); WEFT_EAGAIN (no descriptor left); WEFT_EOS. Each failure leaves a
 * message and nothing behind (no name, no file). */
int weft_sys_shm_create(weft_sys_shm *out, const char *name, size_t size);

/* Open and map the object called `name` (checked as above), all of it.
 * Returns WEFT_OK; WEFT_ENOENT; WEFT_EAGAIN (no descriptor left, or the
 * object has no size yet: its creator is still making it); WEFT_ENOMEM;
 * WEFT_EOS; with a message. */
int weft_sys_shm_open(weft_sys_shm *out, const char *name);

/* Map `file`, an object's file inherited from another process (a handed
 * handle): `size` bytes of it. On WEFT_OK *out owns the file; on failure
 * (WEFT_ENOMEM, WEFT_EOS, with a message) the caller still does. */
int weft_sys_shm_adopt(weft_sys_shm *out, weft_sys_file file, size_t size);

/* Unmap and close what weft_sys_shm_create / _open / _adopt made. */
void weft_sys_shm_close(weft_sys_shm *shm);

/* Remove the name `name` (checked as above): the memory lives on while any
 * process maps it. Returns WEFT_OK, WEFT_ENOENT or WEFT_EOS, with a
 * message. Windows has no such removal (a section lives exactly while a
 * handle to it is open, and its name with it): there it does nothing and
 * returns WEFT_OK, as Python's SharedMemory.unlink does. */
int weft_sys_shm_unlink(const char *name);

/* Whether a named object outlives every handle to it until its name is
 * removed (POSIX: 1), or lives exactly while a handle is open (Windows: 0),
 * so that a producer must keep it open until its reader has opened it. */
#ifdef _WIN32
#define WEFT_SYS_SHM_NAME_KEEPS 0
#else
#define WEFT_SYS_SHM_NAME_KEEPS 1
#endif

#endif /* WEFT_SYS_SHM_H */
