// The C interface of include/chnsw.h over hnswlib's HierarchicalNSW<float> with an inner-product
// space. Searches run concurrently (hnswlib's visited-list pool is thread-safe); the index's ef
// is set once, before searching, and a search for k > ef uses k.
#include "chnsw.h"

#include <hnswlib/hnswlib.h>

#include <cstring>
#include <memory>
#include <string>

struct chnsw_index {
    std::unique_ptr<hnswlib::InnerProductSpace> space;
    std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph;
};

static void report(const char *message, char *error, size_t error_size) {
    if (error && error_size > 0) {
        std::strncpy(error, message, error_size - 1);
        error[error_size - 1] = 0;
    }
}

extern "C" chnsw_index *chnsw_create(int dimension, size_t capacity, size_t m, size_t ef_construction, size_t seed, char *error, size_t error_size) {
    try {
        auto index = new chnsw_index();
        index->space.reset(new hnswlib::InnerProductSpace(dimension));
        index->graph.reset(new hnswlib::HierarchicalNSW<float>(index->space.get(), capacity, m, ef_construction, seed));
        return index;
    } catch (const std::exception &failure) {
        report(failure.what(), error, error_size);
        return nullptr;
    }
}

extern "C" int chnsw_add(chnsw_index *index, const float *vector, uint64_t label, char *error, size_t error_size) {
    try {
        index->graph->addPoint(vector, static_cast<hnswlib::labeltype>(label));
        return 0;
    } catch (const std::exception &failure) {
        report(failure.what(), error, error_size);
        return 1;
    }
}

extern "C" void chnsw_set_ef(chnsw_index *index, size_t ef) { index->graph->setEf(ef); }

extern "C" size_t chnsw_search(const chnsw_index *index, const float *query, size_t k, uint64_t *labels, float *scores) {
    std::priority_queue<std::pair<float, hnswlib::labeltype>> found = index->graph->searchKnn(query, k);
    // The queue holds the worst first; write best first.
    size_t count = found.size();
    for (size_t position = count; position > 0; position--) {
        labels[position - 1] = found.top().second;
        scores[position - 1] = 1.0f - found.top().first;
        found.pop();
    }
    return count;
}

extern "C" int chnsw_save(const chnsw_index *index, const char *path, char *error, size_t error_size) {
    try {
        index->graph->saveIndex(std::string(path));
        return 0;
    } catch (const std::exception &failure) {
        report(failure.what(), error, error_size);
        return 1;
    }
}

extern "C" chnsw_index *chnsw_load(const char *path, int dimension, char *error, size_t error_size) {
    try {
        auto index = new chnsw_index();
        index->space.reset(new hnswlib::InnerProductSpace(dimension));
        index->graph.reset(new hnswlib::HierarchicalNSW<float>(index->space.get(), std::string(path), false, 0));
        return index;
    } catch (const std::exception &failure) {
        report(failure.what(), error, error_size);
        return nullptr;
    }
}

extern "C" size_t chnsw_count(const chnsw_index *index) { return index->graph->cur_element_count; }

extern "C" void chnsw_free(chnsw_index *index) { delete index; }
