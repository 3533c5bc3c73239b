import StrataCore

/// Deliberately broken events, for proving that validation rejects exactly what it should.
public enum InvalidEvents {
    /// The ways an event is broken, drawn at random for each broken event.
    public static let kinds = ["missing_field", "invalid_timestamp", "unknown_event_type", "malformed_json", "unknown_field"]

    /// Renders events as NDJSON lines, breaking a deterministic `fraction` of them. Returns the
    /// lines and the indices of the broken ones.
    public static func ndjson(_ events: [IncomingEvent], invalidFraction: Double, seed: UInt64) -> (lines: [String], invalid: [Int]) {
        var rng = SplitMix64(seed: seed ^ 0xBAD)
        var lines: [String] = []
        var invalid: [Int] = []
        lines.reserveCapacity(events.count)
        for (index, event) in events.enumerated() {
            guard invalidFraction > 0, rng.chance(invalidFraction) else {
                lines.append(event.json.serialized)
                continue
            }
            let kind = kinds[rng.nextInt(below: kinds.count)]
            invalid.append(index)
            var object = event.json.objectValue ?? [:]
            switch kind {
            case "missing_field": object.removeValue(forKey: "user_id")
            case "invalid_timestamp": object["timestamp"] = "yesterday at noon"
            case "unknown_event_type": object["type"] = "teleport"
            case "unknown_field": object["colour"] = "red"
            default:
                let text = JSONValue.object(object).serialized
                lines.append(String(text.prefix(text.count / 2)))
                continue
            }
            lines.append(JSONValue.object(object).serialized)
        }
        return (lines, invalid)
    }
}
