extension Contract {
    /// The contract as canonical JSON: every rule explicit, descriptions left out (they document,
    /// they do not change what is accepted), declared order kept (it is the column order).
    public var canonicalJSON: JSONValue {
        func field(_ field: FieldSchema) -> JSONValue {
            var object: [String: JSONValue] = ["name": .string(field.name), "type": .string(field.type.rawValue), "required": .bool(field.required)]
            if let v = field.maxLength { object["max_length"] = .int(v) }
            if let v = field.minimum { object["min"] = .double(v) }
            if let v = field.maximum { object["max"] = .double(v) }
            if let v = field.allowedValues { object["values"] = .array(v.map { .string($0) }) }
            if let v = field.maxItems { object["max_items"] = .int(v) }
            return .object(object)
        }
        var canonical: JSONValue = [
            "format": 1,
            "events": .array(eventTypes.map { ["name": .string($0.name), "fields": .array($0.fields.map(field))] }),
            "entities": [
                "item": ["properties": .array(item.properties.map(field))],
                "user": ["properties": .array(user.properties.map(field))],
            ],
            "validation": [
                "unknown_fields": .string(policy.unknownFields.rawValue),
                "max_lateness_ms": .int(policy.maxLatenessMillis),
                "max_future_skew_ms": .int(policy.maxFutureSkewMillis),
                "max_string_length": .int(policy.defaultMaxStringLength),
                "max_items": .int(policy.defaultMaxItems),
            ],
        ]
        // Added with layer 2; contracts without features keep the versions they had.
        if !features.isEmpty, case .object(var object) = canonical {
            // By name: the order they are written in means nothing.
            object["features"] = .array(features.sorted { $0.name < $1.name }.map(\.canonicalJSON))
            canonical = .object(object)
        }
        return canonical
    }

    /// The contract version: SHA-256 (hex) of the canonical JSON.
    public var version: String {
        SHA256Hex.of(canonicalJSON.serializedBytes)
    }
}
