import Foundation
import Logging
import StrataCore
import StrataKafka
import StrataLake
import StrataMetadata
import StrataRedis
import StrataS3
import StrataServing
import StrataTraining

/// The one place a backend is chosen: each URL of `backends` in strata.yaml (with the
/// `STRATA_*_URL` overrides already applied when the configuration was loaded) opens its driver,
/// the embedded default or the scale-out implementation.
enum Backends {
    /// `backends.metadata`: SQLite in the project folder, or PostgreSQL.
    static func metadata(_ config: StrataConfig, directory: DataDirectory, logger: Logger) async throws -> MetadataStore {
        try await MetadataStore.open(url: config.backends.metadata, defaultSQLitePath: metadataSQLitePath(directory), logger: logger)
    }

    /// Where `sqlite:` keeps the metadata of a project.
    static func metadataSQLitePath(_ directory: DataDirectory) -> String { "\(directory.projectRoot)/metadata.sqlite" }

    /// `backends.lake`: the bucket of an `s3://` URL; nil for the local folder (`file:`).
    static func lakeBucket(_ config: StrataConfig, logger: Logger) throws -> S3Client? {
        let url = config.backends.lake
        guard url.hasPrefix("s3://") else {
            guard url.hasPrefix("file:") else { throw StrataError.invalid("unsupported_backend", "backends.lake '\(url)' is not file: or s3://bucket/prefix") }
            return nil
        }
        do {
            let location = try S3Location(url: url)
            logger.info(
                "lake and artifacts in S3", metadata: ["bucket": "\(location.bucket)", "prefix": "\(location.prefix)", "endpoint": "\(location.endpoint)"])
            return S3Client(location: location)
        } catch {
            throw StrataError.invalid("invalid_backend_url", "\(error)", field: "backends.lake")
        }
    }

    /// Model artifacts and checkpoints beside the lake: the project folder, or the bucket every
    /// replica reads (with a local copy of the blobs fetched).
    static func blobs(_ config: StrataConfig, directory: DataDirectory, logger: Logger) throws -> any BlobStore {
        guard let client = try lakeBucket(config, logger: logger) else { return FileBlobStore(root: "\(directory.projectRoot)/blobs") }
        return S3BlobStore(client: client, cacheDirectory: "\(directory.projectRoot)/blob-cache")
    }

    /// `backends.online`: a client of its Redis; nil for `memory:`.
    static func onlineRedis(_ config: StrataConfig) throws -> RedisClient? {
        let url = config.backends.online
        guard url.hasPrefix("redis://") else {
            guard url.hasPrefix("memory:") else {
                throw StrataError.invalid("unsupported_backend", "backends.online '\(url)' is not memory: or redis://host:port")
            }
            return nil
        }
        return try RedisClient(url: url, connections: 8)
    }

    /// The recommendation cache `backends.online` names, in memory or in Redis shared by every
    /// replica (its keys expire an hour after the cache TTL), with deployment changes announced
    /// over Redis pub/sub.
    static func recommendationCache(_ config: StrataConfig, logger: Logger) throws -> (any RecommendationCacheStore, (any DeploymentChangeBus)?) {
        guard let client = try onlineRedis(config) else { return (MemoryRecommendationCache(), nil) }
        logger.info(
            "recommendation cache in Redis", metadata: ["host": "\(client.endpoint.host):\(client.endpoint.port)", "db": "\(client.endpoint.database)"])
        let cache = RedisRecommendationCache(
            client: client, namespace: config.project, expireMillis: max(config.serving.cacheTTLMillis, config.serving.precomputeIntervalMillis) + 3_600_000)
        return (cache, RedisDeploymentBus(client: client, namespace: config.project))
    }

    /// `backends.stream`: the Kafka source's settings for `kafka://`; nil for the embedded log
    /// (loading the configuration, and its environment overrides, set them only for Kafka).
    static func kafka(_ config: StrataConfig) -> KafkaConfig? { config.kafka }
}
