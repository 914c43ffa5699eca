/* SPDX-License-Identifier: MIT */
/*
 * shm_counter: four processes add to one counter that lives in shared
 * memory, each increment under a lock between processes, and not one
 * increment is lost. In Python:
 *
 *     from multiprocessing import Process, Lock, shared_memory
 *
 *     N = 10000
 *
 *     def work(name, lock):
 *         shm = shared_memory.SharedMemory(name)
 *         for _ in range(N):
 *             with lock:
 *                 v = int.from_bytes(shm.buf[:8], 'little')
 *                 shm.buf[:8] = (v + 1).to_bytes(8, 'little')
 *         shm.close()
 *
 *     if __name__ == '__main__':
 *         shm = shared_memory.SharedMemory(create=True, size=8)
 *         lock = Lock()
 *         ps = [Process(target=work, args=(shm.name, lock)) for _ in range(4)]
 *         for p in ps: p.start()
 *         for p in ps: p.join()
 *         print('counter', int.from_bytes(shm.buf[:8], 'little'))
 *         shm.close(); shm.unlink()
 *
 * The children are started by spawn, the default everywhere, so each is a
 * fresh run of this program: the lock is handed to them as the Python
 * program hands it, in the start call (weft_process_opts.pass; a child
 * finds it with weft_process_passed), and each opens the memory by its
 * name, as the Python one does.
 */
#include "example.h"

#include <stdint.h>
#include <string.h>

enum { N = 10000, WORKERS = 4 };

static int work(const void *arg, size_t len)
{
    char name[WEFT_SHM_NAME_MAX + 1] = {0};
    weft_plock *lock = weft_process_passed(0); /* the lock of args=(shm.name, lock) */
    weft_shm *shm;
    uint64_t *counter;
    int i;

    CHECK(lock != NULL);
    memcpy(name, arg, len < WEFT_SHM_NAME_MAX ? len : WEFT_SHM_NAME_MAX);
    CHECK_OK(weft_shm_open(&shm, name));
    counter = weft_shm_ptr(shm);
    for (i = 0; i < N; i++) {
        CHECK_OK(weft_plock_acquire(lock, WEFT_FOREVER));
        *counter = *counter + 1; /* a read, then a write: only the lock keeps them together */
        CHECK_OK(weft_plock_release(lock));
    }
    weft_shm_close(shm);
    weft_plock_close(lock);
    return 0;
}

int main(int argc, char **argv)
{
    weft_process_opts opts = {0};
    weft_process *workers[WORKERS];
    const void *passed[1];
    weft_plock *lock;
    weft_shm *shm;
    const char *name;
    int i, code;

    CHECK_OK(weft_process_register("work", work));
    weft_process_main(argc, argv);

    CHECK_OK(weft_shm_create(&shm, NULL, sizeof(uint64_t)));
    CHECK_OK(weft_plock_create(&lock, false));
    name = weft_shm_name(shm);
    passed[0] = lock;
    opts.pass = passed;
    opts.npass = 1;
    for (i = 0; i < WORKERS; i++)
        CHECK_OK(weft_process_start(&workers[i], "work", name, strlen(name), &opts));
    for (i = 0; i < WORKERS; i++) {
        CHECK_OK(weft_process_join(workers[i], WEFT_FOREVER));
        CHECK_OK(weft_process_exitcode(workers[i], &code));
        CHECK(code == 0);
        weft_process_release(workers[i]);
    }
    printf("counter %llu\n", (unsigned long long)*(uint64_t *)weft_shm_ptr(shm));
    printf("expected %d\n", N * WORKERS);
    weft_plock_close(lock);
    CHECK_OK(weft_shm_unlink(name));
    weft_shm_close(shm);
    return 0;
}
