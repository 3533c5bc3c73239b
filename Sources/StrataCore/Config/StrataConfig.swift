import Foundation

/// The root of `strata.yaml`: the contract plus each component's configuration.
///
/// Loaded once at start and validated with errors that point at the key; each component then
/// receives only its own `Sendable` section.
public struct StrataConfig: Sendable {
    /// The project id. Every storage path and key derives from it, so that several projects can
    /// later share one Strata.
    public var project: String
    public var contract: Contract
    public var server: ServerConfig
    public var ingest: IngestConfig
    public var log: LogConfig
    public var lake: LakeConfig
    public var featureStore: FeatureStoreConfig
    public var registry: RegistryConfig
    public var retraining: RetrainingConfig
    public var serving: ServingConfig
    /// The learning-to-rank stage, when configured.
    public var reranker: RerankerConfig?
    /// The Kafka source, when `backends.stream` is `kafka://...`.
    public var kafka: KafkaConfig?
    public var monitoring = MonitoringConfig()
    /// Alert rules evaluated by the server.
    public var alerts: [AlertRule] = []
    /// An MLflow tracking server to mirror runs to (`tracking.mlflow_uri`).
    public var mlflowURI: String?
    /// Hyperparameter searches, by model name.
    public var searches: [String: SearchSpec] = [:]
    public var backends: BackendsConfig
    /// What interactions are worth and which models to train.
    public var training: TrainingConfig
    /// `data_dir` from the file, if set (flags and `STRATA_DATA_DIR` win over it).
    public var dataDirectory: String?
    /// Where the configuration was read from, for messages.
    public var source: String

    public init(
        project: String = "default", contract: Contract, server: ServerConfig = ServerConfig(), ingest: IngestConfig = IngestConfig(),
        log: LogConfig = LogConfig(), lake: LakeConfig = LakeConfig(), backends: BackendsConfig = BackendsConfig(),
        training: TrainingConfig? = nil, dataDirectory: String? = nil, source: String = "(built-in)"
    ) {
        self.project = project
        self.contract = contract
        self.server = server
        self.ingest = ingest
        self.log = log
        self.lake = lake
        self.featureStore = FeatureStoreConfig()
        self.registry = RegistryConfig()
        self.retraining = RetrainingConfig()
        self.serving = ServingConfig()
        self.backends = backends
        self.training = training ?? .defaults(for: contract)
        self.dataDirectory = dataDirectory
        self.source = source
    }

    static let topLevelKeys =
        [
            "project", "data_dir", "server", "ingest", "log", "lake", "backends", "interactions", "models", "feature_store", "registry", "retraining", "search",
            "tracking", "serving", "reranker", "monitoring", "alerts", "kafka",
        ]
        + Contract.yamlKeys

    /// Parses and validates `strata.yaml` text.
    public static func parse(yaml: String, file: String) throws(StrataError) -> StrataConfig {
        guard let root = try ConfigNode.parse(yaml: yaml, file: file) else {
            throw StrataError.invalid("invalid_config", "\(file): the file is empty; see examples/strata.yaml")
        }
        try root.checkKeys(topLevelKeys)
        var config = StrataConfig(contract: try Contract(root: root), source: file)
        if let node = root["project"] {
            config.project = try node.string()
            try Contract.checkName(config.project, at: node, what: "project")
        }
        config.dataDirectory = try root["data_dir"]?.string()
        if let node = root["server"] { config.server = try ServerConfig(node: node) }
        if let node = root["ingest"] { config.ingest = try IngestConfig(node: node) }
        if let node = root["log"] { config.log = try LogConfig(node: node) }
        if let node = root["lake"] { config.lake = try LakeConfig(node: node) }
        if let node = root["feature_store"] { config.featureStore = try FeatureStoreConfig(node: node) }
        if let node = root["registry"] { config.registry = try RegistryConfig(node: node) }
        if let node = root["backends"] { config.backends = try BackendsConfig(node: node) }
        config.training = try TrainingConfig(root: root, contract: config.contract)
        if let node = root["retraining"] { config.retraining = try RetrainingConfig(node: node, models: config.training.models.map(\.name)) }
        if let node = root["serving"] {
            config.serving = try ServingConfig(
                node: node, models: config.training.models.map(\.name), features: config.contract.features,
                interactionTypes: Set(config.training.interactions.weights.keys))
        }
        if let node = root["alerts"] { config.alerts = try AlertRule.parse(node) }
        if let node = root["monitoring"] { config.monitoring = try MonitoringConfig(node: node, contract: config.contract) }
        if let node = root["reranker"] { config.reranker = try RerankerConfig(node: node, contract: config.contract) }
        if config.backends.stream.hasPrefix("kafka://") {
            do {
                config.kafka = try KafkaConfig(url: config.backends.stream, project: config.project)
            } catch {
                throw (root["backends"]?["stream"] ?? root).error(error.message, code: "invalid_backend_url")
            }
        }
        if let node = root["kafka"] {
            guard config.kafka != nil else { throw node.error("the kafka section needs backends.stream: kafka://brokers/topics") }
            try config.kafka!.apply(node: node)
        }
        if let node = root["tracking"] {
            try node.checkKeys(["mlflow_uri"])
            if let v = node["mlflow_uri"] {
                let uri = try v.string()
                guard uri.hasPrefix("http://") || uri.hasPrefix("https://") else {
                    throw v.error("mlflow_uri must be an http(s) URL of an MLflow tracking server")
                }
                config.mlflowURI = uri
            }
        }
        if let node = root["search"] {
            for (name, searchNode) in try node.entries() {
                guard let model = config.training.models.first(where: { $0.name == name }) else {
                    throw searchNode.error("'\(name)' is not a model of this file (models: \(config.training.models.map(\.name).joined(separator: ", ")))")
                }
                config.searches[name] = try SearchSpec(model: model, node: searchNode)
            }
        }
        if config.log.retentionMillis < config.ingest.dedupeWindowMillis {
            throw StrataError.invalid(
                "invalid_config",
                "\(file): log.retention (\(DurationText.format(millis: config.log.retentionMillis))) must be at least ingest.dedupe_window (\(DurationText.format(millis: config.ingest.dedupeWindowMillis))): de-duplication reads the retained log"
            )
        }
        return config
    }

    /// Reads and validates a `strata.yaml` file.
    public static func load(path: String) throws(StrataError) -> StrataConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw StrataError(.notFound, code: "config_not_found", "cannot read the configuration file \(path): \(error.localizedDescription)")
        }
        return try parse(yaml: text, file: path)
    }

    /// The built-in example (an e-commerce site), used when no file is given.
    public static func example() -> StrataConfig {
        // The embedded example is validated by the test suite; failing here is a build defect.
        try! parse(yaml: ExampleConfig.yaml, file: "(built-in example)")
    }
}

/// HTTP server settings.
public struct ServerConfig: Sendable {
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// Seconds a graceful shutdown waits for in-flight requests.
    public var shutdownGraceSeconds: Int = 10
    /// A connection that sends nothing for this long is closed (slow or abandoned clients).
    public var idleTimeoutMillis: Int64 = 30_000
    /// Connections accepted at once; more wait in the listen backlog.
    public var maxConnections = 4096
    /// Requests per second each API key may make on average (0: unlimited), and the burst
    /// above it (429 with Retry-After past them).
    public var rateLimitPerSecond: Double = 1000
    public var rateLimitBurst: Double = 2000
    /// How long an API replica holds a request for the elected worker while none answers (a
    /// fail-over), before refusing it with 503 `worker_unavailable`.
    public var failoverWaitMillis: Int64 = 15_000

    public init() {}

    init(node: ConfigNode) throws(StrataError) {
        try node.checkKeys(["host", "port", "shutdown_grace", "idle_timeout", "max_connections", "rate_limit", "failover_wait"])
        if let v = node["idle_timeout"] {
            idleTimeoutMillis = try v.durationMillis()
            guard idleTimeoutMillis >= 1000 else { throw v.error("idle_timeout is at least 1s") }
        }
        if let v = node["max_connections"] { maxConnections = try v.positiveInt() }
        if let v = node["rate_limit"] {
            if (try? v.string()) == "off" {
                rateLimitPerSecond = 0
            } else {
                try v.checkKeys(["per_key", "burst"])
                if let r = v["per_key"] {
                    rateLimitPerSecond = try r.double()
                    guard rateLimitPerSecond > 0 else { throw r.error("per_key is requests per second, above 0 (or rate_limit: off)") }
                }
                rateLimitBurst = max(rateLimitPerSecond, try v["burst"]?.double() ?? rateLimitPerSecond * 2)
            }
        }
        if let v = node["host"] { host = try v.string() }
        if let v = node["port"] {
            port = try v.int()
            guard (0...65535).contains(port) else { throw v.error("port must be between 0 and 65535") }
        }
        if let v = node["shutdown_grace"] { shutdownGraceSeconds = Int(try v.durationMillis() / 1000) }
        if let v = node["failover_wait"] { failoverWaitMillis = try v.durationMillis() }
    }
}

/// Limits and durability of the ingestion path.
public struct IngestConfig: Sendable {
    /// Largest request body accepted (413 above it).
    public var maxBodyBytes: Int = 16 << 20
    /// Most events in one batch (413 above it).
    public var maxBatchEvents: Int = 10_000
    /// Retries carrying the same `event_id` within this window are acknowledged, not stored twice.
    public var dedupeWindowMillis: Int64 = 86_400_000
    /// How much of a rejected event's raw text the dead-letter store keeps.
    public var deadLetterRawBytes: Int = 8192

    public init() {}

    init(node: ConfigNode) throws(StrataError) {
        try node.checkKeys(["max_body_size", "max_batch_events", "dedupe_window", "dead_letter_raw_bytes"])
        if let v = node["max_body_size"] { maxBodyBytes = try v.byteSize() }
        if let v = node["max_batch_events"] { maxBatchEvents = try v.positiveInt() }
        if let v = node["dedupe_window"] { dedupeWindowMillis = try v.durationMillis() }
        if let v = node["dead_letter_raw_bytes"] { deadLetterRawBytes = try v.positiveInt() }
    }
}

/// The embedded event log.
public struct LogConfig: Sendable {
    /// A segment is closed (and becomes compactable) when it reaches this size.
    public var segmentBytes: Int = 64 << 20
    /// A segment is also closed when it is this old, so the lake never lags far behind.
    public var segmentMaxAgeMillis: Int64 = 600_000
    /// Compacted segments older than this are deleted.
    public var retentionMillis: Int64 = 7 * 86_400_000

    public init() {}

    init(node: ConfigNode) throws(StrataError) {
        try node.checkKeys(["segment_size", "segment_max_age", "retention"])
        if let v = node["segment_size"] {
            segmentBytes = try v.byteSize()
            guard segmentBytes >= 4096 else { throw v.error("segment_size must be at least 4KB") }
        }
        if let v = node["segment_max_age"] { segmentMaxAgeMillis = try v.durationMillis() }
        if let v = node["retention"] { retentionMillis = try v.durationMillis() }
    }
}

/// The Parquet lake.
public struct LakeConfig: Sendable {
    public enum Compression: String, Sendable, CaseIterable {
        case none, snappy, zstd
    }

    public var compression: Compression = .zstd
    /// How often closed log segments are compacted into Parquet.
    public var compactIntervalMillis: Int64 = 60_000
    /// Rows per Parquet row group.
    public var rowGroupRows: Int = 131_072

    public init() {}

    init(node: ConfigNode) throws(StrataError) {
        try node.checkKeys(["compression", "compact_interval", "row_group_rows"])
        if let v = node["compression"] { compression = Compression(rawValue: try v.oneOf(Compression.allCases.map(\.rawValue)))! }
        if let v = node["compact_interval"] { compactIntervalMillis = try v.durationMillis() }
        if let v = node["row_group_rows"] { rowGroupRows = try v.positiveInt() }
    }
}

/// The online feature store.
public struct FeatureStoreConfig: Sendable {
    /// How often the store snapshots its state.
    public var snapshotIntervalMillis: Int64 = 300_000
    /// How often the live store compares a sample of its values with a batch recomputation
    /// (0: never).
    public var skewCheckIntervalMillis: Int64 = 600_000
    /// Entities per skew sample.
    public var skewSampleEntities = 100

    public init() {}

    init(node: ConfigNode) throws(StrataError) {
        try node.checkKeys(["snapshot_interval", "skew_check_interval", "skew_sample"])
        if let v = node["snapshot_interval"] {
            snapshotIntervalMillis = try v.durationMillis()
            guard snapshotIntervalMillis >= 100 else { throw v.error("snapshot_interval must be at least 100ms") }
        }
        if let v = node["skew_check_interval"] {
            skewCheckIntervalMillis = try v.string() == "off" ? 0 : try v.durationMillis()
            guard skewCheckIntervalMillis == 0 || skewCheckIntervalMillis >= 1000 else { throw v.error("skew_check_interval must be at least 1s, or off") }
        }
        if let v = node["skew_sample"] {
            skewSampleEntities = try v.int()
            guard (1...100_000).contains(skewSampleEntities) else { throw v.error("skew_sample must be between 1 and 100000 entities") }
        }
    }
}

/// The model registry's gates.
public struct RegistryConfig: Sendable {
    /// The holdout metric a candidate must improve (`ndcg@10`, `precision@10`, `recall@10`, `map@10`, `hit_rate@10`).
    public var gateMetric = "ndcg@10"
    /// By how much it must beat production (absolute).
    public var gateMargin = 0.0
    /// Whether the principal that started a run may approve its version.
    public var allowSelfApproval = false
    /// Iterations between training checkpoints (ALS, BPR).
    public var checkpointEvery = 1

    public init() {}

    init(node: ConfigNode) throws(StrataError) {
        try node.checkKeys(["gate_metric", "gate_margin", "allow_self_approval", "checkpoint_every"])
        if let v = node["gate_metric"] {
            gateMetric = try v.string()
            let base = gateMetric.split(separator: "@").first.map(String.init) ?? gateMetric
            guard ["precision", "recall", "ndcg", "map", "hit_rate"].contains(base) else {
                throw v.error("gate_metric must be one of precision@10, recall@10, ndcg@10, map@10, hit_rate@10")
            }
        }
        if let v = node["gate_margin"] { gateMargin = try v.double() }
        if let v = node["allow_self_approval"] { allowSelfApproval = try v.bool() }
        if let v = node["checkpoint_every"] {
            checkpointEvery = try v.int()
            guard checkpointEvery >= 0 else { throw v.error("checkpoint_every must be 0 (never) or more iterations") }
        }
    }
}

/// Retraining on a schedule, run by the server.
public struct RetrainingConfig: Sendable {
    /// When (UTC cron); nil: never on a schedule (the API can still trigger it).
    public var schedule: CronSchedule?
    /// Which models (default: every model of `models`).
    public var models: [String]?

    public init() {}

    init(node: ConfigNode, models known: [String]) throws(StrataError) {
        try node.checkKeys(["schedule", "models"])
        if let v = node["schedule"] {
            do {
                schedule = try CronSchedule(try v.string())
            } catch {
                throw v.error(error.message)
            }
        }
        if let v = node["models"] {
            let names = try v.items().map { (item) throws(StrataError) in try item.string() }
            for name in names where !known.contains(name) { throw v.error("'\(name)' is not a model of this file (models: \(known.joined(separator: ", ")))") }
            models = names
        }
    }
}

/// Which implementation backs each store, chosen by URL scheme.
public struct BackendsConfig: Sendable {
    public var metadata = "sqlite:"
    public var online = "memory:"
    public var lake = "file:"
    public var stream = "log:"

    public init() {}

    init(node: ConfigNode) throws(StrataError) {
        try node.checkKeys(["metadata", "online", "lake", "stream"])
        let supported: [(String, WritableKeyPath<BackendsConfig, String>, [String])] = [
            ("metadata", \.metadata, ["sqlite:", "postgres://", "postgresql://"]), ("online", \.online, ["memory:", "redis://"]),
            ("lake", \.lake, ["file:", "s3://"]),
            ("stream", \.stream, ["log:", "kafka://"]),
        ]
        for (key, keyPath, schemes) in supported {
            guard let v = node[key] else { continue }
            let url = try v.string()
            guard schemes.contains(where: { url.hasPrefix($0) }) else {
                throw v.error("'\(url)' is not a supported \(key) backend in this build; supported: \(schemes.joined(separator: ", "))")
            }
            self[keyPath: keyPath] = url
        }
    }
}
