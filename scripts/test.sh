#!/usr/bin/env bash
# The README's test command: installs what the tests need (Debian libraries, the Python peers
# pyarrow and DuckDB that read the lake), then builds and runs every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --with-test-peers
swift build --build-tests
swift test --skip-build "$@"
