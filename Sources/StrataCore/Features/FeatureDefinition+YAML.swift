extension FeatureDefinition {
    /// Reads the `features` section, validated against the contract's event types.
    static func parseAll(_ node: ConfigNode, contract: Contract) throws(StrataError) -> [FeatureDefinition] {
        var features: [FeatureDefinition] = []
        for (name, spec) in try node.entries() {
            try Contract.checkName(name, at: spec, what: "feature")
            features.append(try FeatureDefinition(name: name, node: spec, contract: contract))
        }
        // Ratios name two other features of the same entity, numeric, without cycles.
        let byName = Dictionary(features.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for (name, spec) in try node.entries() {
            guard let feature = byName[name], feature.aggregation == .ratio else { continue }
            for part in [feature.numerator!, feature.denominator!] {
                guard let other = byName[part] else { throw spec.error("feature '\(name)': '\(part)' is not a feature of this contract") }
                guard other.entity == feature.entity else {
                    throw spec.error("feature '\(name)': '\(part)' describes \(other.entity.rawValue)s, not \(feature.entity.rawValue)s")
                }
                guard other.valueType == .int || other.valueType == .double else { throw spec.error("feature '\(name)': '\(part)' is not numeric") }
                guard other.aggregation != .ratio else {
                    throw spec.error("feature '\(name)': a ratio of ratios is not supported; divide the underlying features")
                }
            }
        }
        return features
    }

    init(name: String, node: ConfigNode, contract: Contract) throws(StrataError) {
        try node.checkKeys([
            "entity", "source", "filter", "aggregation", "field", "window", "bucket", "n", "numerator", "denominator", "type", "default", "freshness",
            "description",
        ])
        func fail(_ message: String, _ at: ConfigNode? = nil) -> StrataError { (at ?? node).error("feature '\(name)': \(message)") }
        guard let entityNode = node["entity"] else { throw fail("needs an entity (user or item)") }
        let entity = Entity(rawValue: try entityNode.oneOf(Entity.allCases.map(\.rawValue)))!
        guard let aggregationNode = node["aggregation"] else {
            throw fail("needs an aggregation (\(Aggregation.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let aggregation = Aggregation(rawValue: try aggregationNode.oneOf(Aggregation.allCases.map(\.rawValue)))!

        var sources: [String] = []
        if aggregation != .ratio {
            guard let sourceNode = node["source"] else { throw fail("needs source event types (source: [view, click])") }
            if case .scalar = sourceNode.node { sources = [try sourceNode.string()] } else { sources = try sourceNode.stringList() }
            guard !sources.isEmpty else { throw fail("source lists no event type", sourceNode) }
            for type in sources {
                guard let schema = contract.eventType(named: type) else {
                    throw fail("'\(type)' is not a declared event type (declared: \(contract.eventTypes.map(\.name).joined(separator: ", ")))", sourceNode)
                }
                if entity == .item && schema.field(named: "item_id") == nil {
                    throw fail("\(type) events have no item_id, so they cannot describe an item", sourceNode)
                }
            }
        }
        /// The type of a field in every source (or nil when some source lacks it).
        func fieldType(_ field: String, at: ConfigNode) throws(StrataError) -> FieldType {
            if field == EnvelopeField.userID { return .string }
            var found: FieldType?
            for type in sources {
                guard let schema = contract.eventType(named: type)?.field(named: field) else {
                    throw fail("\(type) events have no field '\(field)'", at)
                }
                if let found, found != schema.type { throw fail("'\(field)' has different types in the source events", at) }
                found = schema.type
            }
            guard let found else { throw fail("'\(field)' names no field of the sources", at) }
            return found
        }

        var filters: [FeatureFilter] = []
        if let filterNode = node["filter"] {
            let texts = try { () throws(StrataError) -> [String] in
                if case .scalar = filterNode.node { return [try filterNode.string()] }
                return try filterNode.stringList()
            }()
            for text in texts {
                let filter = try FilterParser.parse(text, at: filterNode)
                let type = try fieldType(filter.field, at: filterNode)
                for value in filter.values where !FilterParser.compatible(value, with: type) {
                    throw fail("filter '\(text)': \(value.jsonValue.serialized) does not compare with \(filter.field) (\(type.rawValue))", filterNode)
                }
                if type == .stringList { throw fail("filter '\(text)': list fields cannot be filtered", filterNode) }
                var normalized = filter
                if type == .timestamp {
                    // Times compare as epoch milliseconds.
                    normalized.values = filter.values.map { value in
                        if case .string(let text) = value, let millis = EventTime.parse(text) { return .timestamp(millis) }
                        if case .int(let millis) = value { return .timestamp(millis) }
                        return value
                    }
                }
                filters.append(normalized)
            }
        }

        var field = try node["field"]?.string()
        let valueType: FieldType
        switch aggregation {
        case .count:
            guard field == nil else { throw fail("count takes no field") }
            valueType = .int
        case .sum, .mean:
            guard let name = field else { throw fail("\(aggregation.rawValue) needs a numeric field") }
            let type = try fieldType(name, at: node["field"]!)
            guard type == .int || type == .double else {
                throw fail("\(aggregation.rawValue) needs a numeric field; '\(name)' is \(type.rawValue)", node["field"])
            }
            valueType = .double
        case .min, .max:
            guard let name = field else { throw fail("\(aggregation.rawValue) needs a field") }
            let type = try fieldType(name, at: node["field"]!)
            guard [.int, .double, .timestamp].contains(type) else {
                throw fail("\(aggregation.rawValue) needs an int, double or timestamp field; '\(name)' is \(type.rawValue)", node["field"])
            }
            valueType = type
        case .last:
            guard let name = field else { throw fail("last needs a field") }
            valueType = try fieldType(name, at: node["field"]!)
        case .distinctCount:
            guard let name = field else { throw fail("distinct_count needs a field") }
            let type = try fieldType(name, at: node["field"]!)
            guard type != .stringList else { throw fail("distinct_count needs a scalar field", node["field"]) }
            valueType = .int
        case .recentItems:
            field = field ?? (entity == .user ? "item_id" : EnvelopeField.userID)
            guard try fieldType(field!, at: node["field"] ?? node) == .string else { throw fail("recent_items needs a string field (an id)") }
            valueType = .stringList
        case .ratio:
            guard node["numerator"] != nil, node["denominator"] != nil else { throw fail("ratio needs numerator and denominator features") }
            guard field == nil, node["source"] == nil, node["window"] == nil else {
                throw fail("a ratio takes its events and window from its numerator and denominator; remove field, source and window")
            }
            valueType = .double
        }
        if let declared = node["type"] {
            let type = try declared.oneOf(FieldType.allCases.map(\.rawValue))
            guard type == valueType.rawValue else { throw fail("\(aggregation.rawValue) gives \(valueType.rawValue), not \(type)", declared) }
        }

        var window = Window.lifetime
        if aggregation != .ratio {
            guard let windowNode = node["window"] else { throw fail("needs a window (1h, 24h, 7d, 30d, ... or lifetime)") }
            if try windowNode.string() != "lifetime" {
                let length = try windowNode.durationMillis()
                guard length > 0 else { throw fail("the window must be longer than 0", windowNode) }
                window = .sliding(lengthMillis: length)
                if let bucketNode = node["bucket"] {
                    let bucket = try bucketNode.durationMillis()
                    guard bucket > 0, length % bucket == 0, length / bucket <= 10_000 else {
                        throw fail("the bucket must divide the window into at most 10000 parts", bucketNode)
                    }
                    window = .bucketed(lengthMillis: length, bucketMillis: bucket)
                }
            } else if node["bucket"] != nil {
                throw fail("a lifetime window has no buckets", node["bucket"])
            }
        }

        var recentCount = 20
        if let countNode = node["n"] {
            guard aggregation == .recentItems else { throw fail("n applies to recent_items only", countNode) }
            recentCount = try countNode.int()
            guard (1...1000).contains(recentCount) else { throw fail("n must be in 1...1000", countNode) }
        }
        var defaultValue: FieldValue? = aggregation == .count || aggregation == .distinctCount ? .int(0) : nil
        if aggregation == .recentItems { defaultValue = .stringList([]) }
        if let defaultNode = node["default"] {
            let text = try defaultNode.string()
            switch valueType {
            case .int: defaultValue = .int(Int64(try defaultNode.int()))
            case .double: defaultValue = .double(try defaultNode.double())
            case .bool: defaultValue = .bool(try defaultNode.bool())
            case .string: defaultValue = .string(text)
            case .timestamp:
                guard let millis = EventTime.parse(text) else { throw fail("default must be an RFC 3339 time", defaultNode) }
                defaultValue = .timestamp(millis)
            case .stringList: throw fail("a list feature defaults to the empty list", defaultNode)
            }
        }
        self.init(
            name: name, entity: entity, sources: sources, filters: filters, aggregation: aggregation, field: field, window: window, recentCount: recentCount,
            numerator: try node["numerator"]?.string(), denominator: try node["denominator"]?.string(), valueType: valueType, defaultValue: defaultValue,
            freshnessMillis: try node["freshness"]?.durationMillis())
    }
}

/// Parses filter expressions: `FIELD OP LITERAL` with OP one of == != > >= < <=, or
/// `FIELD in [LITERAL, ...]`; literals are numbers, 'quoted' or "quoted" text, true or false.
enum FilterParser {
    static func parse(_ text: String, at node: ConfigNode) throws(StrataError) -> FeatureFilter {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let fieldEnd = trimmed.firstIndex { !($0.isLetter || $0.isNumber || $0 == "_") } ?? trimmed.endIndex
        let field = String(trimmed[..<fieldEnd])
        var rest = trimmed[fieldEnd...].trimmingCharacters(in: .whitespaces)
        guard !field.isEmpty else { throw node.error("filter '\(text)' must start with a field name") }
        var op: FeatureFilter.Operator?
        for candidate in [FeatureFilter.Operator.greaterOrEqual, .lessOrEqual, .equal, .notEqual, .greater, .less] where rest.hasPrefix(candidate.rawValue) {
            op = candidate
            rest = String(rest.dropFirst(candidate.rawValue.count))
            break
        }
        if op == nil && (rest.hasPrefix("in ") || rest.hasPrefix("in[")) {
            op = .among
            rest = String(rest.dropFirst(2))
        }
        guard let op else { throw node.error("filter '\(text)': expected ==, !=, >, >=, <, <= or in after '\(field)'") }
        rest = rest.trimmingCharacters(in: .whitespaces)
        var values: [FieldValue] = []
        if op == .among {
            guard rest.hasPrefix("["), rest.hasSuffix("]") else { throw node.error("filter '\(text)': 'in' takes a [list]") }
            for part in rest.dropFirst().dropLast().split(separator: ",") { values.append(try literal(String(part), text, node)) }
            guard !values.isEmpty else { throw node.error("filter '\(text)': the list is empty") }
        } else {
            values = [try literal(rest, text, node)]
        }
        return FeatureFilter(field: field, op: op, values: values)
    }

    private static func literal(_ raw: String, _ text: String, _ node: ConfigNode) throws(StrataError) -> FieldValue {
        let token = raw.trimmingCharacters(in: .whitespaces)
        if token.count >= 2, let first = token.first, first == "'" || first == "\"", token.last == first {
            return .string(String(token.dropFirst().dropLast()))
        }
        if token == "true" { return .bool(true) }
        if token == "false" { return .bool(false) }
        if let integer = Int64(token) { return .int(integer) }
        if let number = Double(token), number.isFinite { return .double(number) }
        throw node.error("filter '\(text)': '\(token)' is not a number, 'text', true or false")
    }

    static func compatible(_ value: FieldValue, with type: FieldType) -> Bool {
        switch (value, type) {
        case (.string, .string), (.bool, .bool): true
        case (.int, .int), (.int, .double), (.double, .double), (.double, .int), (.int, .timestamp): true
        case (.string(let text), .timestamp): EventTime.parse(text) != nil
        default: false
        }
    }
}
