/* SPDX-License-Identifier: MIT */
/*
 * local_school: the threading.local tutorial, written with weft.
 *
 *     import threading
 *
 *     local_school = threading.local()
 *
 *     def process_student():
 *         std = local_school.student      # each thread sees its own
 *         print('Hello, %s (in %s)' % (std, threading.current_thread().name))
 *
 *     def process_thread(name):
 *         local_school.student = name
 *         process_student()
 *
 *     t1 = threading.Thread(target=process_thread, args=('Alice',), name='Thread-A')
 *     t2 = threading.Thread(target=process_thread, args=('Bob',), name='Thread-B')
 *     t1.start(); t2.start(); t1.join(); t2.join()
 *
 * A weft_local holds one value per thread; its destructor runs for each
 * thread's value when that thread ends, which the example shows too.
 */
#include <weft.h>

#include <stdio.h>

static weft_local *student;
static weft_lock print_lock = WEFT_LOCK_INIT; /* one line at a time */

static void say(const char *fmt, const char *a, const char *b)
{
    weft_lock_acquire(&print_lock, WEFT_FOREVER);
    printf(fmt, a, b);
    fflush(stdout);
    weft_lock_release(&print_lock);
}

static void process_student(void)
{
    const char *std = weft_local_get(student); /* this thread's student */

    say("Hello, %s (in %s)\n", std, weft_thread_name(weft_thread_current()));
}

static void *process_thread(void *name)
{
    weft_local_set(student, name);
    process_student();
    return NULL;
}

static void goodbye(void *name)
{
    say("%s leaves school%s\n", name, "");
}

int main(void)
{
    weft_thread_opts a = {.name = "Thread-A"}, b = {.name = "Thread-B"};
    weft_thread *t1, *t2;

    if (weft_local_create(&student, goodbye) != WEFT_OK)
        return 1;
    if (weft_thread_start(&t1, process_thread, "Alice", &a) != WEFT_OK ||
        weft_thread_start(&t2, process_thread, "Bob", &b) != WEFT_OK)
        return 1;
    weft_thread_join(t1, WEFT_FOREVER, NULL);
    weft_thread_join(t2, WEFT_FOREVER, NULL);
    weft_thread_release(t1);
    weft_thread_release(t2);
    printf("main sees no student: %s\n", weft_local_get(student) ? "wrong" : "yes");
    weft_local_destroy(student);
    return 0;
}
