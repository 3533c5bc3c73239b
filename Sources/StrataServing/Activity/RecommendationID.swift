import StrataCore
import Synchronization

/// The id a response carries and later impression, click and purchase events send back: it
/// names the deployment, the variant and the model version, so attribution needs no lookup
/// (and works across replicas and restarts). `DEPLOYMENT:VARIANT:MODEL@VERSION:NONCE`.
public struct RecommendationID: Sendable, Equatable {
    public var deployment: String
    public var variant: String
    public var model: String
    public var nonce: String

    public init(deployment: String, variant: String, model: String, nonce: String) {
        self.deployment = deployment
        self.variant = variant
        self.model = model
        self.nonce = nonce
    }

    public var text: String { "\(deployment):\(variant):\(model):\(nonce)" }

    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 4, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        self.init(deployment: String(parts[0]), variant: String(parts[1]), model: String(parts[2]), nonce: String(parts[3]))
    }

    /// A fresh nonce: 12 hex digits, unique within the process (a counter) and unpredictable
    /// across processes (a random key), without a system call per request.
    public static func nonce() -> String {
        let count = NonceSource.counter.add(1, ordering: .relaxed).newValue
        var value = (NonceSource.key &+ count &* 0x9E37_79B9_7F4A_7C15)
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        value ^= value >> 31
        let digits = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: 12) { buffer in
            for index in 0..<12 { buffer[index] = digits[Int((value >> (UInt64(11 - index) * 4)) & 0xF)] }
            return 12
        }
    }
}

/// The process's nonce key and counter.
enum NonceSource {
    static let key = UInt64.random(in: 0...UInt64.max)
    static let counter = Atomic<UInt64>(0)
}
