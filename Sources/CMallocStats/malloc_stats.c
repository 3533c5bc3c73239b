#define _GNU_SOURCE
#include "malloc_stats.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/// The size in `<NAME type="TYPE" ... size="N"/>` at the first such element of `text`, or 0.
static unsigned long long size_of(const char *text, const char *element) {
    const char *at = strstr(text, element);
    if (at == NULL) return 0;
    const char *size = strstr(at, "size=\"");
    unsigned long long value = 0;
    if (size != NULL && sscanf(size, "size=\"%llu\"", &value) == 1) return value;
    return 0;
}

long long strata_heap_in_use(void) {
    char *buffer = NULL;
    size_t length = 0;
    FILE *stream = open_memstream(&buffer, &length);
    if (stream == NULL) return -1;
    if (malloc_info(0, stream) != 0) {
        fclose(stream);
        free(buffer);
        return -1;
    }
    fclose(stream);
    // The totals over every arena follow the last per-arena section.
    const char *tail = buffer;
    const char *next;
    while ((next = strstr(tail, "</heap>")) != NULL) tail = next + strlen("</heap>");
    unsigned long long fast = size_of(tail, "<total type=\"fast\"");
    unsigned long long rest = size_of(tail, "<total type=\"rest\"");
    unsigned long long mapped = size_of(tail, "<total type=\"mmap\"");
    unsigned long long current = size_of(tail, "<system type=\"current\"");
    free(buffer);
    return (long long)(current + mapped) - (long long)(fast + rest);
}
