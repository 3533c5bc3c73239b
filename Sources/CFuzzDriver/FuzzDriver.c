// The declaration in include/CFuzzDriver.h is all this target provides: libFuzzer itself
// comes from the toolchain when the build passes -sanitize=fuzzer.
#include "CFuzzDriver.h"
