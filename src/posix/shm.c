/* SPDX-License-Identifier: MIT */
/*
 * Shared memory on POSIX: shm_open (whose descriptors are close-on-exec by
 * POSIX's rule), sized with all its room reserved, then mmap'd MAP_SHARED.
 *
 * Reserving matters: an object sized by ftruncate alone is sparse, and when
 * /dev/shm (a tmpfs) fills up, touching a page of it kills the process with
 * SIGBUS long after the create succeeded. Linux's fallocate reserves every
 * page at once or fails with ENOSPC, which becomes WEFT_ENOMEM here. Not
 * posix_fallocate: where the file system lacks fallocate, glibc's emulates
 * it by writing every block, which would fill a small /dev/shm before
 * saying so. Elsewhere (macOS, the BSDs) ftruncate alone: their shared
 * memory objects are not a file system that can fill this way.
 *
 * A nameless object (for the backend's locks) is a named one whose name is
 * removed at once: it can never outlive its last descriptor, and the only
 * window for a stale name is between the two calls.
 */
#define _GNU_SOURCE /* fallocate */
#include "posix.h"
#include "../sys/shm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* "/" + the name: the OS's form (WEFT_SHM_NAME_MAX bytes at most). */
#define SHM_NAME_CAP (WEFT_SHM_NAME_MAX + 2)

static void shm_os_name(char buf[SHM_NAME_CAP], const char *name)
{
    snprintf(buf, SHM_NAME_CAP, "/%s", name);
}

/* The failure of shm_open, named for the message. */
static int shm_open_status(int err, const char *call, const char *name)
{
    switch (err) {
    case EEXIST:
        return weft__fail(WEFT_EEXIST, "%s: \"%s\" exists already", call, name);
    case ENOENT:
        return weft__fail(WEFT_ENOENT, "%s: no shared memory is called \"%s\"", call, name);
    case EMFILE:
    case ENFILE:
        return weft__posix_status(err, call);
    default:
        weft__posix_status(err, call);
        return weft__fail(WEFT_EOS, "%s \"%s\": failed (os error %d)", call, name, err);
    }
}

static int shm_map(weft_sys_shm *out, int fd, size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

    if (p == MAP_FAILED) {
        int err = errno;

        weft__posix_status(err, "mmap");
        return weft__fail(err == ENOMEM ? WEFT_ENOMEM : WEFT_EOS,
                          "shm: mmap of %zu bytes failed (os error %d)", size, err);
    }
    out->ptr = p;
    out->size = size;
    out->file = fd;
    return WEFT_OK;
}

/* Give the new, empty object `size` bytes, every page reserved. */
static int shm_reserve(int fd, size_t size)
{
    off_t length = (off_t)size;
    int err;

    if (length < 0 || (size_t)length != size)
        return weft__fail(WEFT_ENOMEM, "shm_create: %zu bytes are more than a file can hold", size);
#if defined(__linux__)
    err = fallocate(fd, 0, 0, length) == 0 ? 0 : errno;
    if (err == EOPNOTSUPP || err == ENOSYS) /* a file system without it: as elsewhere */
        err = ftruncate(fd, length) == 0 ? 0 : errno;
#else
    err = ftruncate(fd, length) == 0 ? 0 : errno;
#endif
    if (err == 0)
        return WEFT_OK;
    weft__posix_status(err, "fallocate");
    if (err == ENOSPC || err == EFBIG || err == ENOMEM)
        return weft__fail(WEFT_ENOMEM, "shm_create: no room for %zu bytes of shared memory (os error %d)",
                          size, err);
    return weft__fail(WEFT_EOS, "shm_create: sizing to %zu bytes failed (os error %d)", size, err);
}

/* A name for a nameless object, unique among this process's (the counter)
 * and, most likely, the system's (the pid and the clock); at most 28 bytes
 * with its '/', inside macOS's 31. */
static void shm_nameless_name(char buf[SHM_NAME_CAP])
{
    static uint32_t counter;
    uint32_t n = weft__fetch_add(&counter, 1);
    uint64_t t = (uint64_t)weft_sys_monotonic_ns();

    snprintf(buf, SHM_NAME_CAP, "/w%x-%x-%x", (unsigned)getpid(), (unsigned)n,
             (unsigned)(t ^ (t >> 32)));
}

int weft_sys_shm_create(weft_sys_shm *out, const char *name, size_t size)
{
    char path[SHM_NAME_CAP];
    int fd, rc, tries = 0;

    do {
        if (name)
            shm_os_name(path, name);
        else
            shm_nameless_name(path);
        fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    } while (fd < 0 && errno == EEXIST && !name && ++tries < 16);
    if (fd < 0)
        return shm_open_status(errno, "shm_create", path + 1);
    if (!name)
        shm_unlink(path);
    rc = shm_reserve(fd, size);
    if (rc == WEFT_OK)
        rc = shm_map(out, fd, size);
    if (rc != WEFT_OK) {
        if (name)
            shm_unlink(path);
        close(fd);
    }
    return rc;
}

int weft_sys_shm_open(weft_sys_shm *out, const char *name)
{
    char path[SHM_NAME_CAP];
    struct stat st;
    int fd, rc;

    shm_os_name(path, name);
    fd = shm_open(path, O_RDWR, 0);
    if (fd < 0)
        return shm_open_status(errno, "shm_open", name);
    if (fstat(fd, &st) != 0) {
        rc = weft__posix_status(errno, "fstat");
    } else if (st.st_size <= 0) {
        rc = weft__fail(WEFT_EAGAIN, "shm_open: \"%s\" has no size yet (its creator is still making it)",
                        name);
    } else if ((uintmax_t)st.st_size > SIZE_MAX) {
        rc = weft__fail(WEFT_ENOMEM, "shm_open: \"%s\" is larger than this process can shm_map", name);
    } else {
        rc = shm_map(out, fd, (size_t)st.st_size);
    }
    if (rc != WEFT_OK)
        close(fd);
    return rc;
}

int weft_sys_shm_adopt(weft_sys_shm *out, weft_sys_file file, size_t size)
{
    return shm_map(out, (int)file, size);
}

void weft_sys_shm_close(weft_sys_shm *shm)
{
    munmap(shm->ptr, shm->size);
    close((int)shm->file);
}

int weft_sys_shm_unlink(const char *name)
{
    char path[SHM_NAME_CAP];

    shm_os_name(path, name);
    if (shm_unlink(path) != 0)
        return shm_open_status(errno, "shm_unlink", name);
    return WEFT_OK;
}
