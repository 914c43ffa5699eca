/* SPDX-License-Identifier: MIT */
/* weft/base.h: status codes, weft_strerror, weft_last_os_error,
 * weft_last_error_message. */
#include "runner.h"

#include <limits.h>

typedef struct status_info {
    int value;
    const char *name;
} status_info;

static const status_info statuses[] = {
#define STATUS_ROW(name, value, text) {WEFT_##name, "WEFT_" #name},
    WEFT_STATUS_MAP(STATUS_ROW)
#undef STATUS_ROW
};
#define N_STATUSES (sizeof statuses / sizeof statuses[0])

WEFT_TEST(error_codes_ok_zero_others_negative_and_distinct)
{
    size_t i, j;

    CHECK_EQ_INT(WEFT_OK, 0);
    CHECK_GE_INT(N_STATUSES, 14);
    for (i = 0; i < N_STATUSES; i++) {
        if (statuses[i].value != WEFT_OK)
            CHECK_LT_INT(statuses[i].value, 0);
        for (j = i + 1; j < N_STATUSES; j++)
            CHECK_NE_INT(statuses[i].value, statuses[j].value);
    }
}

/* The codes, written out with their numbers: a program compares weft's
 * return values with the numbers compiled into it, so they are ABI. A
 * renumbered code, one gone from the table, or one added to the table but
 * not pinned here fails. */
WEFT_TEST(error_codes_have_their_pinned_values)
{
    static const struct {
        int code;
        int value;
        const char *name;
    } pinned[] = {
        {WEFT_OK, 0, "WEFT_OK"},
        {WEFT_ETIMEDOUT, -1, "WEFT_ETIMEDOUT"},
        {WEFT_EINVAL, -2, "WEFT_EINVAL"},
        {WEFT_ENOMEM, -3, "WEFT_ENOMEM"},
        {WEFT_EPERM, -4, "WEFT_EPERM"},
        {WEFT_EEMPTY, -5, "WEFT_EEMPTY"},
        {WEFT_EFULL, -6, "WEFT_EFULL"},
        {WEFT_ESHUTDOWN, -7, "WEFT_ESHUTDOWN"},
        {WEFT_ECANCELED, -8, "WEFT_ECANCELED"},
        {WEFT_EBROKEN, -9, "WEFT_EBROKEN"},
        {WEFT_EOVERFLOW, -10, "WEFT_EOVERFLOW"},
        {WEFT_ENOENT, -11, "WEFT_ENOENT"},
        {WEFT_EAGAIN, -12, "WEFT_EAGAIN"},
        {WEFT_EOS, -13, "WEFT_EOS"},
        {WEFT_ECHILD, -14, "WEFT_ECHILD"},
        {WEFT_EOF, -15, "WEFT_EOF"},
        {WEFT_EOWNERDEAD, -16, "WEFT_EOWNERDEAD"},
        {WEFT_EEXIST, -17, "WEFT_EEXIST"},
    };
    size_t n = sizeof pinned / sizeof pinned[0], i;

    CHECK_EQ_UINT(N_STATUSES, n);
    for (i = 0; i < n; i++) {
        const char *text = weft_strerror(pinned[i].value);

        CHECK_EQ_INT(pinned[i].code, pinned[i].value);
        /* the map's row i is this code: names and numbers in this order */
        CHECK_EQ_INT(statuses[i].value, pinned[i].value);
        CHECK_EQ_STR(statuses[i].name, pinned[i].name);
        /* "WEFT_EINVAL: ...", not a longer name that starts the same */
        if (strncmp(text, pinned[i].name, strlen(pinned[i].name)) != 0 ||
            text[strlen(pinned[i].name)] != ':')
            weft_test_fail(__FILE__, __LINE__, "weft_strerror(%d) = \"%s\", expected \"%s: ...\"",
                           pinned[i].value, text, pinned[i].name);
    }
}

WEFT_TEST(error_strerror_distinct_for_every_code)
{
    size_t i, j;

    for (i = 0; i < N_STATUSES; i++) {
        const char *text = weft_strerror(statuses[i].value);
        CHECK(text != NULL);
        CHECK(text[0] != '\0');
        /* Names the code, as "WEFT_ETIMEDOUT: the timeout expired" does. */
        if (strstr(text, statuses[i].name) == NULL)
            weft_test_fail(__FILE__, __LINE__, "weft_strerror(%d) = \"%s\" does not name %s",
                           statuses[i].value, text, statuses[i].name);
        CHECK(strcmp(text, "unknown weft status") != 0);
        for (j = 0; j < i; j++)
            CHECK(strcmp(text, weft_strerror(statuses[j].value)) != 0);
    }
}

WEFT_TEST(error_strerror_unknown_values)
{
    static const int unknown[] = {1, 2, 100, -99, -100, -1000, WEFT_EUSER + 1, INT_MAX};
    size_t i, j;

    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *text = weft_strerror(unknown[i]);
        for (j = 0; j < N_STATUSES; j++)
            CHECK_NE_INT(unknown[i], statuses[j].value); /* really unknown */
        CHECK(text != NULL);
        CHECK_EQ_STR(text, "unknown weft status");
    }
}

/* The application's own codes: WEFT_EUSER and below, none of weft's. */
WEFT_TEST(error_strerror_user_codes)
{
    static const int user[] = {WEFT_EUSER, WEFT_EUSER - 1, WEFT_EUSER - 500, INT_MIN};
    size_t i, j;

    for (i = 0; i < sizeof user / sizeof user[0]; i++) {
        for (j = 0; j < N_STATUSES; j++)
            CHECK_NE_INT(user[i], statuses[j].value);
        CHECK(strstr(weft_strerror(user[i]), "application's own") != NULL);
    }
}

WEFT_TEST(error_strerror_is_static)
{
    /* The same pointer each time: a static string, nothing to free. */
    CHECK_EQ_PTR(weft_strerror(WEFT_EPERM), weft_strerror(WEFT_EPERM));
    CHECK_EQ_PTR(weft_strerror(12345), weft_strerror(12345));
}

static void *read_last_os_error(void *arg)
{
    *(int *)arg = weft_last_os_error();
    return NULL;
}

WEFT_TEST(error_last_os_error_zero_without_failure)
{
    int in_thread = -1;

    CHECK_EQ_INT(weft_last_os_error(), 0);
    weft_test_join(weft_test_start(read_last_os_error, &in_thread));
    CHECK_EQ_INT(in_thread, 0);
    /* Failures that are not WEFT_EOS leave it alone. */
    CHECK_STATUS(weft_sleep(-2.0), WEFT_EINVAL);
    CHECK_STATUS(weft_lock_release(NULL), WEFT_EINVAL);
    CHECK_EQ_INT(weft_last_os_error(), 0);
}

static void *release_unlocked_lock(void *arg)
{
    weft_lock lock = WEFT_LOCK_INIT;

    (void)arg;
    return weft_lock_release(&lock) == WEFT_EPERM ? (void *)weft_last_error_message() : NULL;
}

WEFT_TEST(error_last_message_per_thread_and_kept_by_success)
{
    weft_lock lock = WEFT_LOCK_INIT;
    weft_rlock rlock = WEFT_RLOCK_INIT;
    const char *other;

    CHECK_EQ_STR(weft_last_error_message(), "");
    CHECK_STATUS(weft_rlock_release(&rlock), WEFT_EPERM);
    CHECK(strstr(weft_last_error_message(), "rlock_release") != NULL);
    /* Another thread's failure leaves its own message, not ours. */
    other = weft_test_join(weft_test_start(release_unlocked_lock, NULL));
    CHECK(other != NULL);
    CHECK(strstr(weft_last_error_message(), "rlock_release") != NULL);
    /* A success leaves the message as it was; the next failure replaces it. */
    CHECK_OK(weft_lock_acquire(&lock, 0));
    CHECK_OK(weft_lock_release(&lock));
    CHECK(strstr(weft_last_error_message(), "rlock_release") != NULL);
    CHECK_STATUS(weft_lock_release(&lock), WEFT_EPERM);
    CHECK_EQ_STR(weft_last_error_message(), "lock_release: the lock is not locked");
}
