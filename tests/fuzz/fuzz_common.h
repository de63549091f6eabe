/* Shared by the libFuzzer harnesses: each writes its input to a file in a
 * private temporary folder and hands the path to a loader, as a user's file
 * would arrive.  MTBERT_TEST_SRCDIR (the tests/ folder) is compiled in. */
#ifndef MTBERT_FUZZ_COMMON_H
#define MTBERT_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_dir[64];

/* The private folder, made once. */
static const char *fuzz_tmp(void)
{
    if (!fuzz_dir[0]) {
        snprintf(fuzz_dir, sizeof fuzz_dir, "/tmp/mtbert-fuzz-XXXXXX");
        if (!mkdtemp(fuzz_dir))
            abort();
    }
    return fuzz_dir;
}

/* Writes data to NAME in the private folder; returns its path (static). */
static const char *fuzz_file(const char *name, const uint8_t *data, size_t size)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", fuzz_tmp(), name);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        abort();
    return path;
}

static const char *fuzz_fixture(const char *rel)
{
    static char path[4][1024];
    static int next;
    char *out = path[next++ % 4];
    snprintf(out, sizeof path[0], "%s/%s", MTBERT_TEST_SRCDIR, rel);
    return out;
}

#endif
