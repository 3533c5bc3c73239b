#!/usr/bin/env bash
# The README's test command: installs what the tests need (Debian libraries, the Python peers
# pyarrow and DuckDB that read the lake), then builds and runs every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --with-test-peers
# Style is checked, never argued about (.swift-format; `swift format format -i -r Sources Tests` fixes it).
swift format lint --strict -r Sources Tests
swift build --build-tests
swift test --skip-build "$@"
