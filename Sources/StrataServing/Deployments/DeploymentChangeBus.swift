/// How replicas tell each other that a deployment (or a production version it follows)
/// changed, so that every replica swaps at once instead of at its next poll. Polling stays as
/// the safety net: a missed message costs at most `serving.watch_interval`.
public protocol DeploymentChangeBus: Sendable {
    /// Tells the other replicas to look again.
    func announce() async
    /// One element per announcement heard (and one whenever the bus (re)connects, since
    /// announcements may have been missed meanwhile).
    func changes() -> AsyncStream<Void>
}
