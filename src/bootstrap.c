/* SPDX-License-Identifier: MIT */
/*
 * The child's side of the spawn method: weft_process_main reads the start
 * message its parent wrote (src/wire.c) and runs the target it names, a
 * registered one or one of weft's internal targets (a pool's worker loop),
 * then ends the process through the orderly exit. In a child of
 * weft_popen_start it takes the handles passed to it, the same way, and
 * returns.
 */
#include "processes.h"
#include "ipc/ipc.h"

#include <stdio.h>
#include <string.h>

/* weft's own targets, found before the registered ones. */
static const struct {
    const char *name;
    weft_process_fn fn;
} internal_targets[] = {
    {WEFT__POOL_WORKER, weft__pool_worker},
};

static weft_process_fn internal_target(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof internal_targets / sizeof internal_targets[0]; i++) {
        if (strcmp(internal_targets[i].name, name) == 0)
            return internal_targets[i].fn;
    }
    return NULL;
}

/* Read the handoffs (after the start message, or alone for a Popen child)
 * and make the handles weft_process_passed gives. */
static int take_passed(weft_sys_file in)
{
    weft__ipc_handoff *items;
    size_t count;
    int rc = weft__wire_receive_handoffs(in, &items, &count);

    if (rc != WEFT_OK)
        return weft__fail(rc, "the handoffs of the objects passed could not be read (%s)",
                          weft_strerror(rc));
    rc = weft__ipc_adopt(items, count);
    weft__free(items);
    return rc;
}

/* In a child of weft_popen_start given handles: take them from the pipe
 * the environment names. The variable goes at once, so that a child this
 * one starts never takes it for its own (its descriptors are not that
 * child's). A child that cannot take them ends, as a spawned one does. */
static void take_popen_passed(void)
{
    char name[32];
    weft_sys_file in;
    int rc;

    if (!weft_sys_env_get(WEFT__PASSED_ENV, name, sizeof name))
        return;
    weft_sys_env_unset(WEFT__PASSED_ENV);
    in = weft_sys_file_from_name(name);
    if (in == WEFT__NO_FILE) {
        rc = weft__fail(WEFT_EINVAL, "%s=\"%s\" names no file", WEFT__PASSED_ENV, name);
    } else {
        rc = take_passed(in);
        weft_sys_close(in);
    }
    if (rc != WEFT_OK) {
        fprintf(stderr, "weft: a child of popen could not take the objects passed to it: %s\n",
                weft_last_error_message());
        weft_exit(1);
    }
}

/* Run what the parent sent through `in`; returns the exit code. */
static int run_spawned(weft_sys_file in, weft_sys_file out)
{
    weft__wire_call call;
    weft_process_fn fn;
    int code = 1;
    int rc = weft__wire_receive_call(in, &call);

    if (rc != WEFT_OK) {
        fputs(rc == WEFT_EINVAL   ? "weft: a spawned child got no valid start message\n"
              : rc == WEFT_ENOMEM ? "weft: a spawned child has no memory for its argument\n"
                                  : "weft: a spawned child lost its parent before its start "
                                    "message came\n",
              stderr);
        return 1;
    }
    rc = take_passed(in);
    if (rc != WEFT_OK) {
        fprintf(stderr, "weft: a spawned child could not take the objects passed to it: %s\n",
                weft_last_error_message());
        weft__wire_call_free(&call);
        return 1;
    }
    fn = internal_target(call.name);
    if (fn) {
        weft__wire_set_parent(in, out);
    } else {
        weft_sys_close(in); /* a registered target has nothing more to read */
        fn = weft__target_find(call.name);
    }
    if (fn)
        code = fn(call.arg, call.len);
    else
        fprintf(stderr, "weft: no process target is registered as \"%s\"\n", call.name);
    weft__wire_call_free(&call);
    return code;
}

void weft_process_main(int argc, char **argv)
{
    weft_sys_file in, out = WEFT__NO_FILE;

    weft__process_main_called();
    if (argc < 3 || !argv || !argv[1] || strcmp(argv[1], WEFT__SPAWN_MARKER) != 0) {
        take_popen_passed();
        return;
    }
    in = weft_sys_file_from_name(argv[2]);
    if (argc > 3)
        out = weft_sys_file_from_name(argv[3]);
    weft_exit(run_spawned(in, out));
}
