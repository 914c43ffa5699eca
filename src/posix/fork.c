/* SPDX-License-Identifier: MIT */
/* fork() and weft's one pthread_atfork registration on POSIX. */
#include "posix.h"

#include <errno.h>
#include <pthread.h>
#include <unistd.h>

int weft_sys_fork(weft_sys_child *out, bool *in_child)
{
    pid_t pid = fork();

    if (pid < 0)
        return weft__posix_status(errno, "fork");
    *in_child = pid == 0;
    if (pid > 0) {
        out->pid = pid;
        out->handle = -1;
    }
    return WEFT_OK;
}

/* The common code's handlers, published once weft_sys_atfork gave them. */
typedef struct fork_handlers {
    void (*prepare)(void);
    void (*parent)(void);
    void (*child)(void);
} fork_handlers;

static fork_handlers common_storage;
static fork_handlers *common; /* &common_storage once it is filled */
static pthread_once_t register_once = PTHREAD_ONCE_INIT;
static int register_status;

static const fork_handlers *common_handlers(void)
{
    return weft__load_ptr((void *const *)&common);
}

static void on_fork_prepare(void)
{
    const fork_handlers *h = common_handlers();

    if (h)
        h->prepare();
    weft__posix_signals_before_fork();
}

static void on_fork_parent(void)
{
    const fork_handlers *h = common_handlers();

    weft__posix_signals_after_fork_in_parent();
    if (h)
        h->parent();
}

/* The backend's state first: the common code's reset may wait (the
 * parking lot) and ask for the main thread. */
static void on_fork_child(void)
{
    const fork_handlers *h = common_handlers();

    weft__posix_wait_after_fork();
    weft__posix_thread_after_fork();
    weft__posix_signals_after_fork();
    if (h)
        h->child();
}

static void register_handlers(void)
{
    if (pthread_atfork(on_fork_prepare, on_fork_parent, on_fork_child) != 0)
        register_status = WEFT_ENOMEM;
}

int weft__posix_fork_handlers(void)
{
    pthread_once(&register_once, register_handlers);
    return register_status;
}

int weft_sys_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void))
{
    int rc = weft__posix_fork_handlers();

    if (rc == WEFT_OK) {
        common_storage = (fork_handlers){prepare, parent, child};
        weft__store_ptr((void **)&common, &common_storage);
    }
    return rc;
}
