/* SPDX-License-Identifier: MIT */
/*
 * pool_imap_unordered: results in the order they finish, from the
 * multiprocessing tutorials, written with weft; then the same work through
 * a ProcessPoolExecutor with as_completed.
 *
 *     import time
 *     from multiprocessing import Pool
 *     from concurrent.futures import ProcessPoolExecutor, as_completed
 *
 *     def slow_square(x):
 *         time.sleep(0.05 * (4 - x))   # the first inputs take longest
 *         return x * x
 *
 *     if __name__ == '__main__':
 *         with Pool(4) as pool:
 *             for result in pool.imap_unordered(slow_square, range(4)):
 *                 print('done:', result)
 *         with ProcessPoolExecutor(max_workers=2) as ex:
 *             futures = [ex.submit(slow_square, x) for x in range(4)]
 *             print('sum:', sum(f.result() for f in as_completed(futures)))
 *
 * imap_unordered is weft_pool_submit (apply_async) for each input, then
 * weft_futures_next, which hands out each future once, as it finishes. A
 * worker's result is a weft_pool_result, which the future holds until it
 * is released.
 */
#include "example.h"

#include <string.h>

enum { COUNT = 4 };

static int slow_square(const void *arg, size_t len)
{
    int x;

    if (len != sizeof x)
        return -1;
    memcpy(&x, arg, sizeof x);
    weft_sleep(0.05 * (COUNT - x));
    return x * x;
}

/* Take each future as it finishes (printing its result when `print`) and
 * release it; returns the sum of the results. */
static int collect(weft_future *futures[], bool print)
{
    bool taken[COUNT] = {false};
    size_t index;
    int sum = 0;

    while (weft_futures_next(futures, COUNT, taken, WEFT_FOREVER, &index) == WEFT_OK) {
        void *result;

        CHECK_OK(weft_future_result(futures[index], 0, &result));
        if (print)
            printf("done: %d\n", ((weft_pool_result *)result)->value);
        sum += ((weft_pool_result *)result)->value;
        weft_future_release(futures[index]);
    }
    return sum;
}

int main(int argc, char **argv)
{
    weft_pool_opts opts = {.processes = COUNT};
    weft_future *futures[COUNT];
    weft_executor *ex;
    weft_pool *pool;
    int x;

    CHECK_OK(weft_process_register("slow_square", slow_square));
    weft_process_main(argc, argv);

    CHECK_OK(weft_pool_create(&pool, &opts));
    for (x = 0; x < COUNT; x++)
        CHECK_OK(weft_pool_submit(pool, &futures[x], "slow_square", &x, sizeof x));
    collect(futures, true);
    weft_pool_destroy(pool);

    CHECK_OK(weft_executor_create_processes(&ex, 2));
    for (x = 0; x < COUNT; x++)
        CHECK_OK(weft_executor_submit_target(ex, &futures[x], "slow_square", &x, sizeof x));
    printf("sum: %d\n", collect(futures, false));
    weft_executor_destroy(ex);
    return 0;
}
