/* SPDX-License-Identifier: MIT */
/*
 * pipe_echo: the Pipe example of the Python documentation, grown into a
 * conversation: the parent hands one end of a duplex pipe to a child, which
 * upper-cases every message it receives and sends it back until the parent
 * closes its end.
 *
 *     from multiprocessing import Process, Pipe
 *
 *     def f(conn):
 *         while True:
 *             try:
 *                 msg = conn.recv_bytes()
 *             except EOFError:
 *                 break
 *             conn.send_bytes(msg.upper())
 *         conn.close()
 *
 *     if __name__ == '__main__':
 *         parent_conn, child_conn = Pipe()
 *         p = Process(target=f, args=(child_conn,))
 *         p.start()
 *         child_conn.close()
 *         for word in (b'hello', b'weft'):
 *             parent_conn.send_bytes(word)
 *             print(parent_conn.recv_bytes().decode())
 *         parent_conn.close()
 *         p.join()
 *
 * The child finds its end with weft_process_passed(0): the spawn method
 * runs this program again, which inherits exactly the ends in `pass`.
 */
#include "example.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int f(const void *arg, size_t len)
{
    weft_conn *conn = weft_process_passed(0);
    char *msg;
    size_t n, i;
    int rc;

    (void)arg;
    (void)len;
    while ((rc = weft_conn_recv(conn, (void **)&msg, &n, WEFT_FOREVER)) == WEFT_OK) {
        for (i = 0; i < n; i++)
            msg[i] = (char)toupper((unsigned char)msg[i]);
        CHECK_OK(weft_conn_send(conn, msg, n, WEFT_FOREVER));
        weft_free(msg);
    }
    weft_conn_close(conn);
    return rc == WEFT_EOF ? 0 : 1; /* WEFT_EOF: the parent closed its end */
}

int main(int argc, char **argv)
{
    static const char *const words[] = {"hello", "weft"};
    weft_conn *parent_conn = NULL, *child_conn = NULL;
    const void *pass[1];
    weft_process_opts opts = {0};
    weft_process *p = NULL;
    char *reply;
    size_t len, i;
    int code = -1;

    CHECK_OK(weft_process_register("f", f));
    weft_process_main(argc, argv);

    CHECK_OK(weft_pipe(&parent_conn, &child_conn, true));
    pass[0] = child_conn;
    opts.pass = pass;
    opts.npass = 1;
    CHECK_OK(weft_process_start(&p, "f", NULL, 0, &opts));
    weft_conn_close(child_conn); /* the child has its own copy */
    for (i = 0; i < sizeof words / sizeof words[0]; i++) {
        CHECK_OK(weft_conn_send(parent_conn, words[i], strlen(words[i]), WEFT_FOREVER));
        CHECK_OK(weft_conn_recv(parent_conn, (void **)&reply, &len, WEFT_FOREVER));
        printf("%s\n", reply); /* NUL-terminated after its len bytes */
        weft_free(reply);
    }
    weft_conn_close(parent_conn);
    CHECK_OK(weft_process_join(p, WEFT_FOREVER));
    CHECK_OK(weft_process_exitcode(p, &code));
    printf("child exit code %d\n", code);
    weft_process_release(p);
    return 0;
}
