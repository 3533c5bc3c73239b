// librdkafka (Debian librdkafka-dev): the Kafka client, and its built-in mock cluster for tests
// and benchmarks.
#include <stddef.h>
#include <stdio.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
