import StrataServing

/// Deployment changes announced over Redis pub/sub (`strata:<project>:deployments`): every
/// replica subscribed swaps within a round trip of the change instead of at its next poll.
public struct RedisDeploymentBus: DeploymentChangeBus {
    let client: RedisClient
    let channel: String

    public init(client: RedisClient, namespace: String) {
        self.client = client
        self.channel = "strata:\(namespace):deployments"
    }

    public func announce() async {
        // Best effort: a replica that misses it still polls.
        _ = try? await client.publish(channel, Array("changed".utf8))
    }

    public func changes() -> AsyncStream<Void> {
        let events = client.subscribe([channel])
        return AsyncStream { continuation in
            let task = Task {
                for await _ in events { continuation.yield() }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
