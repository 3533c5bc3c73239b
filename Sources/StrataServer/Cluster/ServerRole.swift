/// What one `strata serve` process does when a project runs as several.
public enum ServerRole: String, Sendable, CaseIterable {
    /// Stateless: answers recommendations, the registry, deployments, keys and the audit log
    /// from the shared backends, and forwards what reads or writes the event data (ingestion,
    /// the lake, features, training, monitoring) to the elected worker.
    case api
    /// The one process (elected through the metadata store) that owns the event data: ingestion,
    /// compaction, scheduled training, the batch job, monitoring and alerts. It serves the API too.
    case worker
    /// Everything in one process: the embedded default.
    case all

    /// Whether this process runs the batch job, canary judgement, drift and alerts.
    public var runsBackgroundWork: Bool { self != .api }
}
