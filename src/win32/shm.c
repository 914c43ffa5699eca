/* SPDX-License-Identifier: MIT */
/*
 * Shared memory on Windows: a section backed by the paging file
 * (CreateFileMappingW with INVALID_HANDLE_VALUE), named "Local\\<name>"
 * (the session's namespace, where Python's SharedMemory puts its names too)
 * or nameless, and mapped whole with MapViewOfFile.
 *
 * Such a section is committed when it is created (SEC_COMMIT, the
 * default): a system without room for it refuses the create, and its
 * pages read as zeros. A section has no size to ask for: an open maps the
 * whole of it and asks VirtualQuery how much that is, which is the size
 * rounded up to a page (Python's SharedMemory does the same). And it has no
 * unlink: it lives exactly while a handle or a view of it is open.
 */
#include "win32.h"
#include "../sys/shm.h"

#include <stdio.h>

/* "Local\\" + the name, in UTF-16. */
static int shm_os_name(const char *name, wchar_t **out)
{
    char buf[WEFT_SHM_NAME_MAX + 8];

    snprintf(buf, sizeof buf, "Local\\%s", name);
    return weft__win32_utf16(buf, out);
}

static int shm_view(weft_sys_shm *out, HANDLE h, size_t size)
{
    void *p = MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, size);

    if (!p) {
        DWORD err = GetLastError();

        weft__os_error((int)err);
        return weft__fail(err == ERROR_NOT_ENOUGH_MEMORY ? WEFT_ENOMEM : WEFT_EOS,
                          "shm: MapViewOfFile of %zu bytes failed (error %lu)", size,
                          (unsigned long)err);
    }
    out->ptr = p;
    out->size = size;
    out->file = (weft_sys_file)h;
    return WEFT_OK;
}

int weft_sys_shm_create(weft_sys_shm *out, const char *name, size_t size)
{
    wchar_t *wname = NULL;
    uint64_t size64 = (uint64_t)size;
    HANDLE h;
    DWORD err;
    int rc;

    if (name) {
        rc = shm_os_name(name, &wname);
        if (rc != WEFT_OK)
            return weft__fail(rc, "shm_create: the name \"%s\" is not UTF-8", name);
    }
    h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, (DWORD)(size64 >> 32),
                           (DWORD)size64, wname);
    err = GetLastError();
    weft__free(wname);
    if (!h) {
        weft__os_error((int)err);
        if (err == ERROR_COMMITMENT_LIMIT || err == ERROR_NOT_ENOUGH_MEMORY ||
            err == ERROR_OUTOFMEMORY || err == ERROR_INVALID_PARAMETER ||
            err == ERROR_DISK_FULL)
            return weft__fail(WEFT_ENOMEM,
                              "shm_create: no room for %zu bytes of shared memory (error %lu)",
                              size, (unsigned long)err);
        rc = weft__handle_status(err, "CreateFileMappingW");
        return rc == WEFT_EAGAIN ? rc
                                 : weft__fail(rc, "shm_create: CreateFileMappingW failed (error %lu)",
                                              (unsigned long)err);
    }
    if (name && err == ERROR_ALREADY_EXISTS) {
        CloseHandle(h);
        return weft__fail(WEFT_EEXIST, "shm_create: \"%s\" exists already", name);
    }
    rc = shm_view(out, h, size);
    if (rc != WEFT_OK)
        CloseHandle(h);
    return rc;
}

/* The section called `name`, or the status (WEFT_ENOENT for none). */
static int shm_open_section(const char *name, HANDLE *out)
{
    static const char call[] = "shm_open";
    wchar_t *wname;
    DWORD err;
    int rc = shm_os_name(name, &wname);

    if (rc != WEFT_OK)
        return weft__fail(rc, "%s: the name \"%s\" is not UTF-8", call, name);
    *out = OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, wname);
    err = GetLastError();
    weft__free(wname);
    if (*out)
        return WEFT_OK;
    weft__os_error((int)err);
    if (err == ERROR_FILE_NOT_FOUND)
        return weft__fail(WEFT_ENOENT, "%s: no shared memory is called \"%s\"", call, name);
    rc = weft__handle_status(err, "OpenFileMappingW");
    return rc == WEFT_EAGAIN ? rc
                             : weft__fail(rc, "%s \"%s\": OpenFileMappingW failed (error %lu)",
                                          call, name, (unsigned long)err);
}

int weft_sys_shm_open(weft_sys_shm *out, const char *name)
{
    MEMORY_BASIC_INFORMATION info;
    HANDLE h;
    int rc = shm_open_section(name, &h);

    if (rc != WEFT_OK)
        return rc;
    rc = shm_view(out, h, 0); /* 0: all of it */
    if (rc != WEFT_OK) {
        CloseHandle(h);
        return rc;
    }
    if (VirtualQuery(out->ptr, &info, sizeof info) == 0) {
        DWORD err = GetLastError();

        weft_sys_shm_close(out);
        weft__os_error((int)err);
        return weft__fail(WEFT_EOS, "shm_open: VirtualQuery failed (error %lu)", (unsigned long)err);
    }
    out->size = info.RegionSize;
    return WEFT_OK;
}

int weft_sys_shm_adopt(weft_sys_shm *out, weft_sys_file file, size_t size)
{
    return shm_view(out, (HANDLE)file, size);
}

void weft_sys_shm_close(weft_sys_shm *shm)
{
    UnmapViewOfFile(shm->ptr);
    CloseHandle((HANDLE)shm->file);
}

int weft_sys_shm_unlink(const char *name)
{
    (void)name; /* nothing to remove: the section goes with its last handle */
    return WEFT_OK;
}
