// swift-tools-version: 6.2
// Strata: a self-hosted, real-time recommendation platform. One module per layer; imports flow
// downward (see ARCHITECTURE.md). C libraries come from Debian through system-library targets.
import PackageDescription

let package = Package(
    name: "Strata",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "strata", targets: ["strata"]),
        .executable(name: "strata-fuzz", targets: ["StrataFuzz"]),
        .library(name: "StrataCore", targets: ["StrataCore"]),
        .library(name: "StrataLake", targets: ["StrataLake"]),
        .library(name: "StrataML", targets: ["StrataML"]),
        .library(name: "StrataFeatures", targets: ["StrataFeatures"]),
        .library(name: "StrataServer", targets: ["StrataServer"]),
        .library(name: "StrataMetadata", targets: ["StrataMetadata"]),
        .library(name: "StrataRegistry", targets: ["StrataRegistry"]),
        .library(name: "StrataTraining", targets: ["StrataTraining"]),
        .library(name: "StrataServing", targets: ["StrataServing"]),
        .library(name: "StrataMonitoring", targets: ["StrataMonitoring"]),
        .library(name: "StrataRedis", targets: ["StrataRedis"]),
        .library(name: "StrataS3", targets: ["StrataS3"]),
        .library(name: "StrataKafka", targets: ["StrataKafka"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // Traits pinned to at most one each: SwiftPM orders several enabled traits from a Set,
        // so their -D flags changed order between invocations and rebuilt these packages
        // (and all that depends on them) on every other `swift build` / `swift test`.
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0", traits: []),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/vapor/sql-kit", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit", from: "2.17.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C libraries (Debian packages), see scripts/install-deps.sh.
        .systemLibrary(name: "CZstd", path: "Sources/CSystem/CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CSnappy", path: "Sources/CSystem/CSnappy", pkgConfig: "snappy", providers: [.apt(["libsnappy-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CSystem/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CBLAS", path: "Sources/CSystem/CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLAPACKE", path: "Sources/CSystem/CLAPACKE", pkgConfig: "lapacke", providers: [.apt(["liblapacke-dev"])]),
        .systemLibrary(name: "CRdKafka", path: "Sources/CSystem/CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "CXGBoost", path: "Sources/CSystem/CXGBoost", pkgConfig: "xgboost", providers: [.apt(["libxgboost-dev"])]),

        // Domain values, the contract, configuration, errors, hashing, clock.
        .target(
            name: "StrataCore",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Layer 3's algorithms and metrics: pure computation over arrays (BLAS/LAPACK for dense math).
        // hnswlib (Debian libhnswlib-dev, header-only C++) behind a small C interface.
        // glibc's allocator statistics over every arena, for `strata bench memory`.
        .target(name: "CMallocStats"),
        .target(name: "CHNSW", cxxSettings: [.unsafeFlags(["-std=c++14", "-O3"])]),
        .target(name: "StrataML", dependencies: ["StrataCore", "CBLAS", "CLAPACKE", "CXGBoost", "CHNSW"]),
        // A Parquet reader and writer (no Swift package exists offline); pure codec, no I/O policy.
        .target(name: "StrataParquet", dependencies: ["CZstd", "CSnappy", "CZlib"]),
        // Layer 1: ingestion, the event log, the lake, snapshots, import, the generator.
        .target(
            name: "StrataLake",
            dependencies: [
                "StrataCore", "StrataParquet",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["Ingestion/event_batch.proto"]
        ),
        // Layer 2: feature definitions computed by one engine on the stream and over history.
        .target(
            name: "StrataFeatures",
            dependencies: [
                "StrataCore", "StrataLake", "StrataParquet",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // The HTTP API and the dashboard. The route table (every operation's path, role and
        // forwarding) and the OpenAPI document are resources embedded in the binary.
        .target(
            name: "StrataServer",
            dependencies: [
                "StrataCore", "StrataLake", "StrataFeatures", "StrataRegistry", "StrataTraining", "StrataServing", "StrataMonitoring",
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.embedInCode("Resources/routes.json"), .embedInCode("Resources/openapi.json")]
        ),
        .executableTarget(
            name: "strata",
            dependencies: [
                "StrataCore", "StrataLake", "StrataML", "StrataFeatures", "StrataServer", "StrataMetadata", "StrataRegistry", "StrataTraining", "StrataServing",
                "StrataRedis", "StrataS3", "StrataKafka", "CMallocStats",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The metadata store: one SQL code path over SQLite (embedded) and PostgreSQL.
        .target(
            name: "StrataMetadata",
            dependencies: [
                "StrataCore",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Layer 4: the model registry with its lineage (runs, baselines), deployment records, API keys
        // and the audit log.
        .target(
            name: "StrataRegistry",
            dependencies: ["StrataCore", "StrataML", "StrataMetadata", .product(name: "SQLKit", package: "sql-kit")]
        ),
        // Layer 3: training runs (checkpoints, holdout evaluation, the gate), over StrataML.
        .target(
            name: "StrataTraining",
            dependencies: [
                "StrataCore", "StrataLake", "StrataML", "StrataFeatures", "StrataRegistry", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Layer 5: deployments (variants, canaries, rollback), the precomputed cache with its live
        // fallback, and A/B attribution.
        .target(
            name: "StrataServing",
            dependencies: [
                "StrataCore", "StrataLake", "StrataML", "StrataFeatures", "StrataRegistry",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Layer 6: Prometheus metrics of every layer (read through collectors the server wires), drift
        // and quality monitors over what serving records, and the alerts that act on them.
        .target(
            name: "StrataMonitoring",
            dependencies: [
                "StrataCore", "StrataLake", "StrataML", "StrataFeatures", "StrataRegistry", "StrataTraining", "StrataServing",
                .product(name: "Prometheus", package: "swift-prometheus"), .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Scale-out: a RESP client for Redis on SwiftNIO (no Swift Redis client is available offline).
        .target(
            name: "StrataRedis",
            dependencies: [
                "StrataServing", "StrataFeatures", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Scale-out: an S3 client (SigV4 signing, multipart uploads, retries) over URLSession.
        .target(
            name: "StrataS3",
            dependencies: [
                "StrataCore", "StrataLake", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // Scale-out: Kafka topics as a source (librdkafka consumer group, at-least-once), Avro decoding.
        .target(
            name: "StrataKafka",
            dependencies: [
                "StrataCore", "StrataLake", "CRdKafka", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // Fixtures (a training project among them) and the conformance suites each backend
        // implementation runs (blob store, cache, metadata store, online features, event sources).
        .target(
            name: "StrataTesting",
            dependencies: [
                "StrataCore", "StrataLake", "StrataFeatures", "StrataMetadata", "StrataRegistry", "StrataServing", "StrataTraining",
                .product(name: "SQLKit", package: "sql-kit"),
            ]),
        // Coverage-guided fuzzing of the input parsers (scripts/fuzz.sh); a normal build replays inputs.
        .target(name: "CFuzzDriver"),
        .executableTarget(
            name: "StrataFuzz",
            dependencies: ["StrataCore", "StrataLake", "StrataParquet", "CFuzzDriver", .product(name: "Logging", package: "swift-log")]),

        .testTarget(name: "StrataCoreTests", dependencies: ["StrataCore", "StrataTesting"]),
        .testTarget(name: "StrataParquetTests", dependencies: ["StrataParquet", "StrataTesting"]),
        .testTarget(name: "StrataMLTests", dependencies: ["StrataML", "StrataTesting"]),
        .testTarget(name: "StrataFeaturesTests", dependencies: ["StrataFeatures", "StrataTesting"]),
        .testTarget(name: "StrataTrainingTests", dependencies: ["StrataTraining", "StrataRegistry", "StrataMetadata", "StrataLake", "StrataTesting"]),
        .testTarget(name: "StrataMLflowTests", dependencies: ["StrataTraining", "StrataRegistry", "StrataLake", "StrataTesting"]),
        .testTarget(
            name: "StrataRegistryTests",
            dependencies: ["StrataRegistry", "StrataMetadata", "StrataTraining", "StrataTesting", .product(name: "SQLKit", package: "sql-kit")]
        ),
        .testTarget(name: "StrataLakeTests", dependencies: ["StrataLake", "StrataTesting"]),
        .testTarget(name: "StrataS3Tests", dependencies: ["StrataS3", "StrataTesting"]),
        .testTarget(name: "StrataKafkaTests", dependencies: ["StrataKafka", "StrataLake", "StrataTesting"]),
        .testTarget(name: "StrataRedisTests", dependencies: ["StrataRedis", "StrataServing", "StrataFeatures", "StrataTesting"]),
        .testTarget(
            name: "StrataMonitoringTests",
            dependencies: [
                "StrataMonitoring", "StrataCore", "StrataServing", "StrataRegistry", "StrataMetadata", "StrataTraining", "StrataFeatures", "StrataLake",
                "StrataML", "StrataTesting",
            ]
        ),
        .testTarget(
            name: "StrataServingTests",
            dependencies: [
                "StrataServing", "StrataRegistry", "StrataMetadata", "StrataTraining", "StrataFeatures", "StrataLake", "StrataML", "StrataMonitoring",
                "StrataTesting",
            ]
        ),
        .testTarget(
            name: "StrataServerTests",
            dependencies: [
                "StrataServer", "StrataFeatures", "StrataTesting", "StrataS3", "strata",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ]
)
