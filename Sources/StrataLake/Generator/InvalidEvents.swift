import StrataCore

/// Deliberately broken events, for proving that validation rejects exactly what it should.
public enum InvalidEvents {
    /// The ways an event is broken, drawn at random for each broken event.
    public static let kinds = ["missing_field", "invalid_timestamp", "unknown_event_type", "malformed_json", "unknown_field"]

    /// Renders events as NDJSON lines, breaking a deterministic `fraction` of them. Returns the
    /// lines and the indices of the broken ones.
    public static func ndjson(_ events: [IncomingEvent], invalidFraction: Double, seed: UInt64) -> (lines: [String], invalid: [Int]) {
        var writer = Writer(invalidFraction: invalidFraction, seed: seed)
        var lines: [String] = []
        var invalid: [Int] = []
        lines.reserveCapacity(events.count)
        for (index, event) in events.enumerated() {
            let (line, broken) = writer.line(event)
            lines.append(line)
            if broken { invalid.append(index) }
        }
        return (lines, invalid)
    }

    /// One line at a time, the same lines `ndjson` writes (for streams of any length).
    public struct Writer {
        let invalidFraction: Double
        var rng: SplitMix64

        public init(invalidFraction: Double, seed: UInt64) {
            self.invalidFraction = invalidFraction
            self.rng = SplitMix64(seed: seed ^ 0xBAD)
        }

        /// The event's line, and whether it was broken on purpose.
        public mutating func line(_ event: IncomingEvent) -> (line: String, broken: Bool) {
            guard invalidFraction > 0, rng.chance(invalidFraction) else { return (event.json.serialized, false) }
            let kind = kinds[rng.nextInt(below: kinds.count)]
            var object = event.json.objectValue ?? [:]
            switch kind {
            case "missing_field": object.removeValue(forKey: "user_id")
            case "invalid_timestamp": object["timestamp"] = "yesterday at noon"
            case "unknown_event_type": object["type"] = "teleport"
            case "unknown_field": object["colour"] = "red"
            default:
                let text = JSONValue.object(object).serialized
                return (String(text.prefix(text.count / 2)), true)
            }
            return (JSONValue.object(object).serialized, true)
        }
    }
}
