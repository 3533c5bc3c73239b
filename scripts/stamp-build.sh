#!/usr/bin/env bash
# Records the git commit a build was made from next to the binary (strata.build-info), so every
# training run names the code that produced it. Usage: scripts/stamp-build.sh .build/release
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-.build/release}
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit="$commit-dirty"; fi
mkdir -p "$dir"
echo "git:$commit strata:$(sed -n 's/.*current = "\(.*\)".*/\1/p' Sources/StrataCore/Version/StrataVersion.swift)" >"$dir/strata.build-info"
