#!/usr/bin/env bash
# Regenerates the committed Swift code for Strata's .proto files. Run it after editing a .proto;
# builds never run a code generator. Needs Debian's protoc (protobuf-compiler) and builds
# swift-protobuf's protoc-gen-swift plugin from the resolved package checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || { sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo; $sudo apt-get update -qq && $sudo apt-get install -y -qq protobuf-compiler; }
swift package resolve
swift build --package-path .build/checkouts/swift-protobuf --scratch-path .build-protoc-gen-swift -c release --product protoc-gen-swift
plugin=.build-protoc-gen-swift/release/protoc-gen-swift
protoc --plugin=protoc-gen-swift="$plugin" --swift_opt=Visibility=Internal \
  --swift_out=Sources/StrataLake/Ingestion -I Sources/StrataLake/Ingestion Sources/StrataLake/Ingestion/event_batch.proto
echo "generated Sources/StrataLake/Ingestion/event_batch.pb.swift"
