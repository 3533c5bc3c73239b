import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension URLSessionConfiguration {
    /// A configuration without a URL cache. On Linux, FoundationNetworking traps the process
    /// ("Trying to access a behaviour for a task that in not in the registry") when a task of a
    /// session with a cache is cancelled while the cache is being read, before the task has a
    /// protocol; cancelling is routine here (timeouts, task groups, a request's client gone).
    /// Strata's HTTP calls (S3, the worker, MLflow, webhooks, the CLI) are never cacheable.
    public static var uncached: URLSessionConfiguration {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        return configuration
    }
}

extension URLSession {
    /// A shared session without a cache, for one-off requests (see `URLSessionConfiguration.uncached`);
    /// use it instead of `URLSession.shared`, whose cache makes cancelling unsafe.
    public static let uncached = URLSession(configuration: .uncached)
}
