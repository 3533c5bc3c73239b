// A C interface to hnswlib (Debian libhnswlib-dev, header-only C++), so that Swift can build,
// search, save and load an inner-product HNSW index. Errors are reported as a nonzero return
// and a message in `error` (at most `error_size` bytes), never as exceptions.
#ifndef CHNSW_H
#define CHNSW_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct chnsw_index chnsw_index;

/// A new empty index of `capacity` vectors of `dimension` floats, inner-product space.
chnsw_index *chnsw_create(int dimension, size_t capacity, size_t m, size_t ef_construction, size_t seed, char *error, size_t error_size);

/// Adds vector `vector` (dimension floats) with label `label`; call from one thread, in label
/// order, for an index that is the same bytes for the same inputs.
int chnsw_add(chnsw_index *index, const float *vector, uint64_t label, char *error, size_t error_size);

/// The breadth of searches (hnswlib's ef): set once, before searching from several threads.
void chnsw_set_ef(chnsw_index *index, size_t ef);

/// The `k` nearest by inner product, best first: labels and inner products (1 - distance).
/// Returns how many were found (at most k). Safe from several threads at once; a k above ef
/// searches as broadly as k.
size_t chnsw_search(const chnsw_index *index, const float *query, size_t k, uint64_t *labels, float *scores);

/// Writes the index to `path` / reads it from `path`.
int chnsw_save(const chnsw_index *index, const char *path, char *error, size_t error_size);
chnsw_index *chnsw_load(const char *path, int dimension, char *error, size_t error_size);

size_t chnsw_count(const chnsw_index *index);
void chnsw_free(chnsw_index *index);

#ifdef __cplusplus
}
#endif

#endif
