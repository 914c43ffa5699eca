/* SPDX-License-Identifier: MIT */
/*
 * pool_map: Pool(5).map(test, range(13)) from the multiprocessing
 * tutorials, written with weft: a registered function of this program runs
 * in five worker processes, and the results come back in input order.
 *
 *     from multiprocessing import Pool
 *
 *     def test(x):
 *         return x * x
 *
 *     if __name__ == '__main__':
 *         with Pool(5) as p:
 *             print(p.map(test, range(13)))
 *
 * Inputs and results are bytes in weft: each input here is one int, and
 * the target returns its result as its return value (a target can also
 * give back bytes with weft_process_reply()).
 */
#include "example.h"

#include <stdio.h>
#include <string.h>

enum { COUNT = 13 };

static int test(const void *arg, size_t len)
{
    int x;

    if (len != sizeof x)
        return -1;
    memcpy(&x, arg, sizeof x);
    return x * x;
}

int main(int argc, char **argv)
{
    weft_pool_opts opts = {.processes = 5};
    weft_pool *pool = NULL;
    int inputs[COUNT];
    weft_buffer items[COUNT];
    weft_pool_result results[COUNT];
    int i;

    CHECK_OK(weft_process_register("test", test));
    weft_process_main(argc, argv);

    for (i = 0; i < COUNT; i++) {
        inputs[i] = i;
        items[i] = (weft_buffer){&inputs[i], sizeof inputs[i]};
    }
    CHECK_OK(weft_pool_create(&pool, &opts));
    CHECK_OK(weft_pool_map(pool, "test", items, COUNT, results));
    printf("[");
    for (i = 0; i < COUNT; i++) {
        printf("%s%d", i ? ", " : "", results[i].value);
        weft_free(results[i].data);
    }
    printf("]\n");
    weft_pool_destroy(pool); /* leaving `with Pool(5)` */
    return 0;
}
