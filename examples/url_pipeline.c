/* SPDX-License-Identifier: MIT */
/*
 * url_pipeline: the "URL grabber" pipeline of the classic Python threading
 * tutorial (Noah Gift, "Practical threaded programming with Python"),
 * written with weft. In Python 3 it reads:
 *
 *     import queue, threading, time, urllib.request
 *     from bs4 import BeautifulSoup
 *
 *     hosts = ["http://yahoo.com", "http://google.com", "http://amazon.com",
 *              "http://ibm.com", "http://apple.com"]
 *
 *     in_queue = queue.Queue()
 *     out_queue = queue.Queue()
 *
 *     class ThreadUrl(threading.Thread):
 *         def run(self):
 *             while True:
 *                 host = in_queue.get()              # grab a host
 *                 chunk = urllib.request.urlopen(host).read()
 *                 out_queue.put(chunk)               # hand the page on
 *                 in_queue.task_done()
 *
 *     class DatamineThread(threading.Thread):
 *         def run(self):
 *             while True:
 *                 chunk = out_queue.get()
 *                 soup = BeautifulSoup(chunk, "html.parser")
 *                 print(soup.find_all(["title"]))
 *                 out_queue.task_done()
 *
 *     start = time.time()
 *     for i in range(5):
 *         ThreadUrl(daemon=True).start()
 *     for host in hosts:
 *         in_queue.put(host)
 *     for i in range(5):
 *         DatamineThread(daemon=True).start()
 *     in_queue.join()        # every host fetched, so every page queued ...
 *     out_queue.join()       # ... and now every page parsed
 *     print("Elapsed Time: %s" % (time.time() - start))
 *
 * The network is replaced by local work, so the program runs anywhere and
 * prints the same lines every time: "fetching" a URL sleeps 10 to 50 ms
 * (weft_sleep, the simulated latency) and makes up an HTML page whose
 * title names the host; "parsing" finds the text between <title> and
 * </title>. There are ten URLs instead of five. The parse threads keep the
 * titles instead of printing them in whatever order they finish; the main
 * thread prints them sorted.
 *
 * At the end it does what Python 3.13 adds (Queue.shutdown()): the worker
 * loops end when their queue is shut down, so the threads can be joined
 * rather than abandoned. As daemon threads they could also simply be left
 * blocked in get(), as the Python program leaves them.
 */
#include "example.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_FETCHERS 5
#define N_PARSERS 5
#define TITLE_MAX 80

static const char *const hosts[] = {
    "http://yahoo.com",     "http://google.com",    "http://amazon.com",
    "http://ibm.com",       "http://apple.com",     "http://python.org",
    "http://wikipedia.org", "http://github.com",    "http://kernel.org",
    "http://example.com",
};
#define N_HOSTS (sizeof hosts / sizeof hosts[0])

static weft_queue *in_queue;  /* URLs to fetch (const char *) */
static weft_queue *out_queue; /* fetched pages (malloc'd char *), to parse */

/* What the workers report, guarded by `results_lock`. */
static weft_lock results_lock = WEFT_LOCK_INIT;
static size_t n_fetched;
static size_t n_parsed;
static char titles[N_HOSTS][TITLE_MAX];

/* The simulated latency of a host: 10 to 50 ms, the same on every run. */
static double latency_of(size_t index)
{
    return 0.01 * (double)(1 + index % 5);
}

static size_t index_of(const char *url)
{
    size_t i;

    for (i = 0; i < N_HOSTS; i++)
        if (hosts[i] == url)
            return i;
    example_fail(__FILE__, __LINE__, "a URL that is not in the list", url);
    return 0;
}

/* "Download" a page: wait for the network, then make up its HTML. */
static char *fetch(const char *url)
{
    const char *host = strstr(url, "://") ? strstr(url, "://") + 3 : url;
    size_t size = 256 + 2 * strlen(host);
    char *page = malloc(size);

    CHECK(page != NULL);
    /* ECANCELED would only mean a stop was requested (a signal started
     * the exit); the page is made either way. */
    (void)weft_sleep(latency_of(index_of(url)));
    snprintf(page, size,
             "<html><head><title>Front page of %s</title></head>\n"
             "<body><h1>Welcome to %s</h1><p>Nothing to see here.</p></body></html>\n",
             host, host);
    return page;
}

/* "Parse" a page: the text of its <title>. */
static void parse_title(const char *page, char *title, size_t cap)
{
    const char *start = strstr(page, "<title>");
    const char *end = start ? strstr(start, "</title>") : NULL;
    size_t n;

    CHECK(start != NULL && end != NULL);
    start += strlen("<title>");
    n = (size_t)(end - start);
    CHECK(n < cap);
    memcpy(title, start, n);
    title[n] = '\0';
}

/* ThreadUrl.run */
static void *fetch_worker(void *arg)
{
    (void)arg;
    for (;;) {
        void *url;
        char *page;
        int rc = weft_queue_get(in_queue, &url, WEFT_FOREVER);

        if (rc == WEFT_ESHUTDOWN)
            break; /* Python 3.13: queue.ShutDown */
        CHECK_OK(rc);
        page = fetch(url);
        CHECK_OK(weft_queue_put(out_queue, page, WEFT_FOREVER));
        CHECK_OK(weft_lock_acquire(&results_lock, WEFT_FOREVER));
        n_fetched++;
        CHECK_OK(weft_lock_release(&results_lock));
        CHECK_OK(weft_queue_task_done(in_queue));
    }
    return NULL;
}

/* DatamineThread.run */
static void *parse_worker(void *arg)
{
    (void)arg;
    for (;;) {
        void *page;
        char title[TITLE_MAX];
        int rc = weft_queue_get(out_queue, &page, WEFT_FOREVER);

        if (rc == WEFT_ESHUTDOWN)
            break;
        CHECK_OK(rc);
        parse_title(page, title, sizeof title);
        free(page);
        CHECK_OK(weft_lock_acquire(&results_lock, WEFT_FOREVER));
        CHECK(n_parsed < N_HOSTS);
        memcpy(titles[n_parsed++], title, sizeof title);
        CHECK_OK(weft_lock_release(&results_lock));
        CHECK_OK(weft_queue_task_done(out_queue));
    }
    return NULL;
}

static int compare_titles(const void *a, const void *b)
{
    return strcmp(a, b);
}

static weft_thread *start_daemon(weft_thread_fn fn, const char *kind, int number)
{
    char name[32];
    weft_thread_opts opts;
    weft_thread *thread = NULL;

    snprintf(name, sizeof name, "%s-%d", kind, number);
    memset(&opts, 0, sizeof opts);
    opts.name = name;
    opts.daemon = true; /* t.daemon = True */
    CHECK_OK(weft_thread_start(&thread, fn, NULL, &opts));
    return thread;
}

int main(void)
{
    weft_thread *fetchers[N_FETCHERS], *parsers[N_PARSERS];
    double start = weft_monotonic(), elapsed, one_at_a_time = 0;
    size_t i, fetched, parsed;
    int k;

    CHECK_OK(weft_queue_create(&in_queue, NULL));  /* queue.Queue() */
    CHECK_OK(weft_queue_create(&out_queue, NULL)); /* queue.Queue() */

    for (k = 0; k < N_FETCHERS; k++)
        fetchers[k] = start_daemon(fetch_worker, "fetch", k + 1);
    for (i = 0; i < N_HOSTS; i++) {
        CHECK_OK(weft_queue_put(in_queue, (void *)(uintptr_t)hosts[i], WEFT_FOREVER));
        one_at_a_time += latency_of(i);
    }
    for (k = 0; k < N_PARSERS; k++)
        parsers[k] = start_daemon(parse_worker, "parse", k + 1);

    /* Wait on the queues until everything has been processed. */
    CHECK_OK(weft_queue_join(in_queue, WEFT_FOREVER));
    CHECK_OK(weft_queue_join(out_queue, WEFT_FOREVER));
    elapsed = weft_monotonic() - start;

    CHECK_OK(weft_lock_acquire(&results_lock, WEFT_FOREVER));
    fetched = n_fetched;
    parsed = n_parsed;
    CHECK_OK(weft_lock_release(&results_lock));
    printf("%d fetch threads, %d parse threads, %u URLs\n", N_FETCHERS, N_PARSERS,
           (unsigned)N_HOSTS);
    printf("fetched %u pages\n", (unsigned)fetched);
    printf("parsed %u pages\n", (unsigned)parsed);
    printf("queues empty after join: %s\n",
           weft_queue_empty(in_queue) && weft_queue_empty(out_queue) ? "yes" : "no");
    qsort(titles, parsed, sizeof titles[0], compare_titles);
    printf("titles, sorted:\n");
    for (i = 0; i < parsed; i++)
        printf("  %u. %s\n", (unsigned)(i + 1), titles[i]);
    printf("simulated fetch time, one URL at a time: %.2f s\n", one_at_a_time);
    printf("elapsed: %.3f s\n", elapsed);

    /* Python 3.13: in_queue.shutdown(); out_queue.shutdown(); the workers'
     * get() raises ShutDown and their loops end. */
    weft_queue_shutdown(in_queue, false);
    weft_queue_shutdown(out_queue, false);
    for (k = 0; k < N_FETCHERS; k++) {
        CHECK_OK(weft_thread_join(fetchers[k], WEFT_FOREVER, NULL));
        weft_thread_release(fetchers[k]);
    }
    for (k = 0; k < N_PARSERS; k++) {
        CHECK_OK(weft_thread_join(parsers[k], WEFT_FOREVER, NULL));
        weft_thread_release(parsers[k]);
    }
    printf("workers stopped after shutdown: %d\n", N_FETCHERS + N_PARSERS);
    weft_queue_destroy(in_queue);
    weft_queue_destroy(out_queue);
    printf("url_pipeline: OK\n");
    return 0;
}
