/* SPDX-License-Identifier: MIT */
/*
 * pool_executor: the concurrent.futures tutorial, written with weft: a
 * ThreadPoolExecutor used as a context manager, submit() + result(), then
 * map() over inputs with the results in input order (the is_prime example
 * of the Python documentation).
 *
 *     import concurrent.futures, math
 *
 *     PRIMES = [112272535095293, 112582705942171, 112272535095293,
 *               115280095190773, 115797848077099, 1099726899285419]
 *
 *     def is_prime(n):
 *         if n < 2: return False
 *         if n == 2: return True
 *         if n % 2 == 0: return False
 *         for i in range(3, math.isqrt(n) + 1, 2):
 *             if n % i == 0: return False
 *         return True
 *
 *     def square(n): return n * n
 *
 *     with concurrent.futures.ThreadPoolExecutor(max_workers=4) as executor:
 *         futures = [executor.submit(square, n) for n in (3, 4, 5)]
 *         for n, future in zip((3, 4, 5), futures):
 *             print('square(%d) = %d' % (n, future.result()))
 *         for number, prime in zip(PRIMES, executor.map(is_prime, PRIMES)):
 *             print('%d is prime: %s' % (number, prime))
 *     # leaving `with` is executor.shutdown(wait=True): weft_executor_destroy
 *
 * The calls run on the pool's worker threads ("ThreadPoolExecutor-0_0"...),
 * but every line is printed by the main thread, in input order.
 */
#include "example.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static const uint64_t primes[] = {112272535095293u, 112582705942171u, 112272535095293u,
                                  115280095190773u, 115797848077099u, 1099726899285419u};
enum { N_PRIMES = sizeof primes / sizeof primes[0] };

/* is_prime(n): the argument points to n; the result is 0 or 1. */
static void *is_prime(void *arg)
{
    uint64_t n = *(const uint64_t *)arg, i;

    if (n < 2)
        return (void *)0;
    if (n == 2)
        return (void *)1;
    if (n % 2 == 0)
        return (void *)0;
    for (i = 3; i <= n / i; i += 2) {
        if (n % i == 0)
            return (void *)0;
    }
    return (void *)1;
}

/* square(n): n and the result travel in the pointer itself. */
static void *square(void *arg)
{
    intptr_t n = (intptr_t)arg;

    return (void *)(n * n);
}

int main(void)
{
    static const intptr_t inputs[] = {3, 4, 5};
    weft_executor *executor = NULL;
    weft_future *futures[3];
    void *args[N_PRIMES], *results[N_PRIMES];
    int i;

    /* with ThreadPoolExecutor(max_workers=4) as executor: */
    CHECK_OK(weft_executor_create(&executor, 4, NULL));

    /* futures = [executor.submit(square, n) for n in (3, 4, 5)] */
    for (i = 0; i < 3; i++)
        CHECK_OK(weft_executor_submit(executor, &futures[i], square, (void *)inputs[i]));
    for (i = 0; i < 3; i++) {
        void *result = NULL;
        CHECK_OK(weft_future_result(futures[i], WEFT_FOREVER, &result)); /* future.result() */
        printf("square(%d) = %d\n", (int)inputs[i], (int)(intptr_t)result);
        weft_future_release(futures[i]);
    }

    /* executor.map(is_prime, PRIMES): results in input order. */
    for (i = 0; i < N_PRIMES; i++)
        args[i] = (void *)&primes[i];
    CHECK_OK(weft_executor_map(executor, is_prime, args, results, N_PRIMES, WEFT_FOREVER));
    for (i = 0; i < N_PRIMES; i++)
        printf("%" PRIu64 " is prime: %s\n", primes[i], results[i] ? "True" : "False");

    /* Leaving `with`: shutdown(wait=True), then give the handle back. */
    weft_executor_destroy(executor);
    printf("pool_executor: OK\n");
    return 0;
}
