#ifndef STRATA_MALLOC_STATS_H
#define STRATA_MALLOC_STATS_H

/// Bytes the allocator holds for the program over every arena (glibc's malloc_info): memory
/// obtained from the system (heaps and mmapped chunks) less the free chunks kept for reuse.
/// -1 when the statistics cannot be read.
long long strata_heap_in_use(void);

#endif
