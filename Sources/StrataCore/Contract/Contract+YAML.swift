extension Contract {
    /// Top-level keys of `strata.yaml` that belong to the contract.
    static let yamlKeys = ["events", "entities", "validation", "features"]

    /// Reads the contract sections of a parsed `strata.yaml`.
    public init(root: ConfigNode) throws(StrataError) {
        var policy = ValidationPolicy()
        if let validation = root["validation"] {
            try validation.checkKeys(["unknown_fields", "max_lateness", "max_future_skew", "max_string_length", "max_items"])
            if let node = validation["unknown_fields"] {
                policy.unknownFields = ValidationPolicy.UnknownFields(rawValue: try node.oneOf(["reject", "keep"]))!
            }
            if let node = validation["max_lateness"] { policy.maxLatenessMillis = try node.durationMillis() }
            if let node = validation["max_future_skew"] { policy.maxFutureSkewMillis = try node.durationMillis() }
            if let node = validation["max_string_length"] { policy.defaultMaxStringLength = try node.positiveInt() }
            if let node = validation["max_items"] { policy.defaultMaxItems = try node.positiveInt() }
        }

        guard let eventsNode = root["events"] else {
            throw root.error("the contract needs an 'events' section declaring at least one event type", code: "missing_config_key")
        }
        var eventTypes: [EventTypeSchema] = []
        for (name, node) in try eventsNode.entries() {
            try Contract.checkName(name, at: node, what: "event type")
            if CatalogEventType.all.contains(name) || name.hasPrefix("catalog_") {
                throw node.error("event type names starting with 'catalog_' are reserved for catalog changes")
            }
            try node.checkKeys(["description", "fields"])
            var fields: [FieldSchema] = []
            if let fieldsNode = node["fields"] {
                for (fieldName, fieldNode) in try fieldsNode.entries() {
                    fields.append(try FieldSchema(name: fieldName, node: fieldNode))
                }
            }
            guard fields.count <= 64 else { throw node.error("an event type may declare at most 64 fields") }
            eventTypes.append(EventTypeSchema(name: name, description: try node["description"]?.string(), fields: fields))
        }
        guard !eventTypes.isEmpty else { throw eventsNode.error("declare at least one event type") }

        var item = EntitySchema(properties: [])
        var user = EntitySchema(properties: [])
        if let entities = root["entities"] {
            try entities.checkKeys(["item", "user"])
            if let node = entities["item"] { item = try EntitySchema(node: node) }
            if let node = entities["user"] { user = try EntitySchema(node: node) }
        }
        self.init(eventTypes: eventTypes, item: item, user: user, policy: policy)
        if let featuresNode = root["features"] { features = try FeatureDefinition.parseAll(featuresNode, contract: self) }
    }

    static func checkName(_ name: String, at node: ConfigNode, what: String) throws(StrataError) {
        let valid =
            !name.isEmpty && name.utf8.count <= 64 && name.utf8.first.map { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") } == true
            && name.utf8.allSatisfy {
                ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "_")
            }
        guard valid else {
            throw node.error("\(what) name '\(name)' must be lowercase letters, digits and '_', start with a letter, at most 64 characters")
        }
    }
}

extension EntitySchema {
    init(node: ConfigNode) throws(StrataError) {
        try node.checkKeys(["properties"])
        var properties: [FieldSchema] = []
        if let propertiesNode = node["properties"] {
            for (name, propertyNode) in try propertiesNode.entries() {
                if EntitySchema.flagFields.contains(where: { $0.name == name }) || name == "item_id" {
                    throw propertyNode.error("'\(name)' is built into every catalog entry; remove it from the properties")
                }
                properties.append(try FieldSchema(name: name, node: propertyNode))
            }
            guard properties.count <= 60 else { throw propertiesNode.error("an entity may declare at most 60 properties") }
        }
        self.init(properties: properties)
    }
}

extension FieldSchema {
    /// A field written either as a bare type (`price: double`) or as a mapping of its rules.
    init(name: String, node: ConfigNode) throws(StrataError) {
        try Contract.checkName(name, at: node, what: "field")
        if name == "date" {
            throw node.error("'date' is reserved: the lake partitions files by date=YYYY-MM-DD; choose another name")
        }
        if EnvelopeField.all.contains(name) {
            throw node.error("'\(name)' is part of every event's envelope (type, event_id, user_id, timestamp); remove it from the fields")
        }
        let typeNames = FieldType.allCases.map(\.rawValue)
        if case .scalar = node.node {
            self.init(name: name, type: FieldType(rawValue: try node.oneOf(typeNames))!)
            return
        }
        try node.checkKeys(["type", "required", "description", "max_length", "min", "max", "values", "max_items"])
        guard let typeNode = node["type"] else {
            throw node.error("field '\(name)' needs a type (one of: \(typeNames.joined(separator: ", ")))", code: "missing_config_key")
        }
        let type = FieldType(rawValue: try typeNode.oneOf(typeNames))!
        self.init(name: name, type: type)
        required = try node["required"]?.bool() ?? false
        description = try node["description"]?.string()
        if let rule = node["max_length"] {
            guard type == .string || type == .stringList else { throw rule.error("max_length applies to string and string_list fields only") }
            maxLength = try rule.positiveInt()
        }
        for (key, keyPath) in [("min", \FieldSchema.minimum), ("max", \FieldSchema.maximum)] {
            guard let rule = node[key] else { continue }
            guard type == .int || type == .double else { throw rule.error("\(key) applies to int and double fields only") }
            self[keyPath: keyPath] = try rule.double()
        }
        if let minimum, let maximum, minimum > maximum { throw node.error("min (\(minimum)) is greater than max (\(maximum))") }
        if let rule = node["values"] {
            guard type == .string else { throw rule.error("values applies to string fields only") }
            let values = try rule.stringList()
            guard !values.isEmpty else { throw rule.error("list at least one allowed value") }
            allowedValues = values
        }
        if let rule = node["max_items"] {
            guard type == .stringList else { throw rule.error("max_items applies to string_list fields only") }
            maxItems = try rule.positiveInt()
        }
    }
}

extension ConfigNode {
    func positiveInt() throws(StrataError) -> Int {
        let value = try int()
        guard value > 0 else { throw error("expected a positive integer, found \(value)") }
        return value
    }
}
