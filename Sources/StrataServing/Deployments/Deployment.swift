import StrataCore

/// One arm of a deployment: a model version (or whatever is the model's production version)
/// and its share of traffic.
public struct VariantSpec: Sendable, Equatable {
    public var name: String
    public var model: String
    /// nil: follows the model's production version (promotion and rollback move it).
    public var version: Int64?
    public var weight: Double

    public init(name: String, model: String, version: Int64? = nil, weight: Double) {
        self.name = name
        self.model = model
        self.version = version
        self.weight = weight
    }

    /// `NAME@VERSION` or `NAME@production`.
    public var reference: String { "\(model)@\(version.map(String.init) ?? "production")" }

    public var json: JSONValue {
        ["name": .string(name), "model": .string(model), "version": version.map(JSONValue.int) ?? .null, "weight": .double(weight)]
    }

    init(json: JSONValue) throws(StrataError) {
        guard let name = json["name"]?.stringValue, let model = json["model"]?.stringValue, let weight = json["weight"]?.doubleValue else {
            throw StrataError.internal("a stored deployment variant is unreadable: \(json.serialized)")
        }
        self.init(name: name, model: model, version: json["version"]?.intValue, weight: weight)
    }
}

/// A canary ramp in progress or finished.
public struct CanaryState: Sendable, Equatable {
    public enum Status: String, Sendable { case running, completed, rolledBack = "rolled_back" }
    /// The variant that carries the canary.
    public var variant: String
    /// Traffic percentages, in order (the last is usually 100).
    public var steps: [Double]
    public var step: Int
    public var intervalMillis: Int64
    public var stepStartedAt: Int64
    public var status: Status
    public var reason: String?
    /// Who started it (a completed ramp promotes in their name).
    public var principal: String

    public var json: JSONValue {
        [
            "variant": .string(variant), "steps": .array(steps.map(JSONValue.double)), "step": .int(Int64(step)), "interval_ms": .int(intervalMillis),
            "step_started_at": .string(EventTime.format(millis: stepStartedAt)), "step_started_ms": .int(stepStartedAt), "status": .string(status.rawValue),
            "reason": reason.map(JSONValue.string) ?? .null, "principal": .string(principal),
        ]
    }

    init(json: JSONValue) throws(StrataError) {
        guard let variant = json["variant"]?.stringValue, let steps = json["steps"]?.arrayValue?.compactMap(\.doubleValue),
            let step = json["step"]?.intValue, let interval = json["interval_ms"]?.intValue, let started = json["step_started_ms"]?.intValue,
            let status = json["status"]?.stringValue.flatMap(Status.init(rawValue:)), let principal = json["principal"]?.stringValue
        else { throw StrataError.internal("a stored canary is unreadable: \(json.serialized)") }
        self.init(
            variant: variant, steps: steps, step: Int(step), intervalMillis: interval, stepStartedAt: started, status: status,
            reason: json["reason"]?.stringValue, principal: principal)
    }

    public init(
        variant: String, steps: [Double], step: Int = 0, intervalMillis: Int64, stepStartedAt: Int64, status: Status = .running, reason: String? = nil,
        principal: String
    ) {
        self.variant = variant
        self.steps = steps
        self.step = step
        self.intervalMillis = intervalMillis
        self.stepStartedAt = stepStartedAt
        self.status = status
        self.reason = reason
        self.principal = principal
    }
}

/// What a deployment serves: 1–3 variants with traffic weights (the first is the control), an
/// optional shadow that scores the same requests unseen, and an optional canary ramp. The salt
/// makes assignment sticky per user and independent between experiments.
public struct Deployment: Sendable, Equatable {
    public static let maxVariants = 3
    public var name: String
    public var salt: String
    public var variants: [VariantSpec]
    public var shadow: VariantSpec?
    public var canary: CanaryState?
    /// Bumped by every change (replicas reload when it moves).
    public var revision: Int64 = 0
    public var updatedAt: Int64 = 0

    public init(name: String, salt: String, variants: [VariantSpec], shadow: VariantSpec? = nil, canary: CanaryState? = nil) {
        self.name = name
        self.salt = salt
        self.variants = variants
        self.shadow = shadow
        self.canary = canary
    }

    /// The deployment a project starts with: its serving model's production version, alone.
    public static func initial(name: String, model: String) -> Deployment {
        Deployment(name: name, salt: name, variants: [VariantSpec(name: "A", model: model, weight: 100)])
    }

    public var control: VariantSpec { variants[0] }

    /// Checks the shape a user asked for (names, weights, count).
    public func validate() throws(StrataError) {
        guard (1...Self.maxVariants).contains(variants.count) else {
            throw StrataError.invalid("invalid_deployment", "a deployment has 1 to \(Self.maxVariants) variants, not \(variants.count)", field: "variants")
        }
        guard Set(variants.map(\.name)).count == variants.count else {
            throw StrataError.invalid("invalid_deployment", "variant names must differ", field: "variants")
        }
        for variant in variants {
            guard variant.weight >= 0, variant.weight.isFinite else {
                throw StrataError.invalid("invalid_deployment", "variant \(variant.name): the weight must be 0 or more", field: "variants")
            }
            guard !variant.name.isEmpty, variant.name.utf8.allSatisfy({ $0 != UInt8(ascii: ":") && $0 > 32 }) else {
                throw StrataError.invalid("invalid_deployment", "variant names are non-empty, without spaces or ':'", field: "variants")
            }
        }
        guard variants.reduce(0, { $0 + $1.weight }) > 0 else {
            throw StrataError.invalid("invalid_deployment", "at least one variant needs a positive weight", field: "variants")
        }
    }

    public var json: JSONValue {
        [
            "name": .string(name), "salt": .string(salt), "variants": .array(variants.map(\.json)), "shadow": shadow?.json ?? .null,
            "canary": canary?.json ?? .null, "revision": .int(revision), "updated_at": .string(EventTime.format(millis: updatedAt)),
        ]
    }

    init(json: JSONValue, revision: Int64, updatedAt: Int64) throws(StrataError) {
        guard let name = json["name"]?.stringValue, let salt = json["salt"]?.stringValue, let variants = json["variants"]?.arrayValue else {
            throw StrataError.internal("a stored deployment is unreadable")
        }
        var parsed: [VariantSpec] = []
        for variant in variants { parsed.append(try VariantSpec(json: variant)) }
        self.init(name: name, salt: salt, variants: parsed)
        if let shadow = json["shadow"], shadow != .null { self.shadow = try VariantSpec(json: shadow) }
        if let canary = json["canary"], canary != .null { self.canary = try CanaryState(json: canary) }
        self.revision = revision
        self.updatedAt = updatedAt
    }
}
