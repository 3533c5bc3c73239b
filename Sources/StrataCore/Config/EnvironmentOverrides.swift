/// The `STRATA_*` environment variables that override `strata.yaml`, applied once, where the
/// configuration is loaded: every component then reads the configuration alone. (Command-line
/// flags, where a command has them, still win over both.)
extension StrataConfig {
    /// Each variable and the setting it replaces.
    public static let environmentOverrides: [(variable: String, setting: String)] = [
        ("STRATA_DATA_DIR", "data_dir"), ("STRATA_HOST", "server.host"), ("STRATA_PORT", "server.port"),
        ("STRATA_METADATA_URL", "backends.metadata"), ("STRATA_ONLINE_URL", "backends.online"), ("STRATA_LAKE_URL", "backends.lake"),
        ("STRATA_STREAM_URL", "backends.stream"), ("STRATA_MLFLOW_URI", "tracking.mlflow_uri"),
    ]

    /// This configuration with the overrides `environment` sets (empty values are ignored);
    /// a value a backend cannot use is refused naming the variable.
    public func applyingEnvironment(_ environment: [String: String]) throws(StrataError) -> StrataConfig {
        var config = self
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        if let directory = value("STRATA_DATA_DIR") { config.dataDirectory = directory }
        if let host = value("STRATA_HOST") { config.server.host = host }
        if let text = value("STRATA_PORT") {
            guard let port = Int(text), (0...65535).contains(port) else {
                throw StrataError.invalid("invalid_environment", "STRATA_PORT '\(text)' is not a port number (0 to 65535)", field: "STRATA_PORT")
            }
            config.server.port = port
        }
        let backends: [(String, WritableKeyPath<BackendsConfig, String>, [String])] = [
            ("STRATA_METADATA_URL", \.metadata, ["sqlite:", "postgres://", "postgresql://"]), ("STRATA_ONLINE_URL", \.online, ["memory:", "redis://"]),
            ("STRATA_LAKE_URL", \.lake, ["file:", "s3://"]), ("STRATA_STREAM_URL", \.stream, ["log:", "kafka://"]),
        ]
        for (name, keyPath, schemes) in backends {
            guard let url = value(name) else { continue }
            guard schemes.contains(where: { url.hasPrefix($0) }) else {
                throw StrataError.invalid(
                    "unsupported_backend", "\(name) '\(url)' is not a supported backend; supported: \(schemes.joined(separator: ", "))", field: name)
            }
            config.backends[keyPath: keyPath] = url
        }
        if let url = value("STRATA_STREAM_URL") {
            if url.hasPrefix("kafka://") {
                // The brokers and topics of the URL, with the file's `kafka:` settings.
                var kafka: KafkaConfig
                do {
                    kafka = try KafkaConfig(url: url, project: config.project)
                } catch {
                    throw StrataError.invalid("invalid_backend_url", "STRATA_STREAM_URL: \(error.message)", field: "STRATA_STREAM_URL")
                }
                if let file = config.kafka {
                    (kafka.format, kafka.schemaIDs, kafka.batchSize, kafka.properties) = (file.format, file.schemaIDs, file.batchSize, file.properties)
                }
                config.kafka = kafka
            } else {
                config.kafka = nil
            }
        }
        if let uri = value("STRATA_MLFLOW_URI") { config.mlflowURI = uri }
        return config
    }
}
