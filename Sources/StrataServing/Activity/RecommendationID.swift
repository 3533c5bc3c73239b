import StrataCore

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

    /// A fresh nonce: 12 random hex digits.
    public static func nonce<G: RandomNumberGenerator>(using generator: inout G) -> String {
        let value = UInt64.random(in: 0..<(1 << 48), using: &generator)
        let digits = Array("0123456789abcdef".utf8)
        var bytes = [UInt8](repeating: 0, count: 12)
        for index in 0..<12 { bytes[index] = digits[Int((value >> (UInt64(11 - index) * 4)) & 0xF)] }
        return String(decoding: bytes, as: UTF8.self)
    }
}
