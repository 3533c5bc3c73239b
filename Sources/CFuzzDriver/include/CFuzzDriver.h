#ifndef STRATA_FUZZ_DRIVER_H
#define STRATA_FUZZ_DRIVER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's entry point for programs that have their own main (linked by
/// `-sanitize=fuzzer`; see scripts/fuzz.sh). Only referenced in a fuzzing build.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
