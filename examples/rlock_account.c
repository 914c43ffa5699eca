/* SPDX-License-Identifier: MIT */
/*
 * rlock_account: the Python idiom "an RLock, so that methods holding the
 * lock can call each other", written with weft.
 *
 *     import threading
 *
 *     class Account:
 *         def __init__(self):
 *             self.lock = threading.RLock()
 *             self.changed = threading.Condition(self.lock)
 *             self.balance = 0
 *
 *         def get_balance(self):
 *             with self.lock:
 *                 return self.balance
 *
 *         def deposit(self, amount):
 *             with self.lock:
 *                 self.balance += amount
 *                 self.changed.notify_all()
 *
 *         def withdraw(self, amount):
 *             with self.lock:     # held from the check to the change
 *                 while self.get_balance() < amount:  # takes it again
 *                     self.changed.wait()   # lets go of every level
 *                 self.deposit(-amount)     # takes it again
 *
 *     account = Account()
 *
 *     def save():
 *         for _ in range(10000):
 *             account.deposit(1)
 *
 *     def spend():
 *         for _ in range(1000):
 *             account.withdraw(3)
 *
 *     threads = [threading.Thread(target=save) for _ in range(2)] + \
 *               [threading.Thread(target=spend) for _ in range(2)]
 *     for t in threads: t.start()
 *     for t in threads: t.join()
 *     print("balance:", account.get_balance())    # 14000, every time
 *
 * withdraw() holds the lock from the check to the change, so no other
 * thread can spend the money in between, and calls methods that take the
 * lock again. With a Lock that second acquire would wait forever for the
 * thread itself; an RLock counts the levels its owner holds. The
 * Condition waits with weft_cond_wait_rlock(), which, like Python's
 * Condition over an RLock, lets go of every level while it waits and takes
 * them all back before it returns.
 */
#include "example.h"

#include <stdio.h>

#define N_SAVERS 2
#define N_DEPOSITS 10000 /* of 1, per saver */
#define N_SPENDERS 2
#define N_WITHDRAWALS 1000 /* of WITHDRAWAL, per spender */
#define WITHDRAWAL 3

/* The account: its RLock guards everything below it. */
static weft_rlock lock = WEFT_RLOCK_INIT;
static weft_cond changed = WEFT_COND_INIT; /* Condition(lock) */
static long balance;
static long lowest; /* the lowest balance ever seen */

static void take_lock(void) /* `with lock:` begins */
{
    CHECK_OK(weft_rlock_acquire(&lock, WEFT_FOREVER));
}

static void drop_lock(void) /* `with lock:` ends */
{
    CHECK_OK(weft_rlock_release(&lock));
}

static long get_balance(void)
{
    take_lock();
    long value = balance;
    drop_lock();
    return value;
}

static void deposit(long amount)
{
    take_lock();
    balance += amount;
    if (balance < lowest)
        lowest = balance;
    weft_cond_notify_all(&changed);
    drop_lock();
}

static void withdraw(long amount)
{
    take_lock();
    while (get_balance() < amount) /* the second level */
        CHECK_OK(weft_cond_wait_rlock(&changed, &lock, WEFT_FOREVER));
    deposit(-amount); /* the second level again */
    drop_lock();
}

static void *save(void *arg)
{
    (void)arg;
    for (int i = 0; i < N_DEPOSITS; i++)
        deposit(1);
    return NULL;
}

static void *spend(void *arg)
{
    (void)arg;
    for (int i = 0; i < N_WITHDRAWALS; i++)
        withdraw(WITHDRAWAL);
    return NULL;
}

int main(void)
{
    weft_thread *threads[N_SAVERS + N_SPENDERS];
    weft_lock plain = WEFT_LOCK_INIT;

    for (int i = 0; i < N_SAVERS + N_SPENDERS; i++)
        CHECK_OK(weft_thread_start(&threads[i], i < N_SAVERS ? save : spend, NULL, NULL));
    for (int i = 0; i < N_SAVERS + N_SPENDERS; i++) {
        CHECK_OK(weft_thread_join(threads[i], WEFT_FOREVER, NULL));
        weft_thread_release(threads[i]);
    }

    long deposited = (long)N_SAVERS * N_DEPOSITS;
    long withdrawn = (long)N_SPENDERS * N_WITHDRAWALS * WITHDRAWAL;
    long final_balance = get_balance();
    printf("balance: %ld (%ld deposited, %ld withdrawn)\n", final_balance, deposited, withdrawn);
    CHECK(final_balance == deposited - withdrawn);
    printf("the balance never went below 0: %s\n", lowest >= 0 ? "yes" : "no");
    CHECK(lowest >= 0);

    /* What a Lock would have done in withdraw(): its owner cannot take it
     * again (with a timeout of 0 the second acquire fails at once instead
     * of waiting forever). */
    CHECK_OK(weft_lock_acquire(&plain, WEFT_FOREVER));
    int again = weft_lock_acquire(&plain, 0);
    CHECK_OK(weft_lock_release(&plain));
    printf("a Lock taken again by its holder: %s\n",
           again == WEFT_ETIMEDOUT ? "would wait forever" : "taken");
    CHECK(again == WEFT_ETIMEDOUT);

    /* Unlike a Lock, an RLock belongs to the thread that took it. */
    int released = weft_rlock_release(&lock);
    printf("releasing an RLock this thread does not hold: %s\n",
           released == WEFT_EPERM ? "WEFT_EPERM" : "allowed");
    CHECK(released == WEFT_EPERM);
    printf("rlock_account: OK\n");
    return 0;
}
