/// The schema tree of a file, resolved into top-level columns and the leaf each one reads.
struct ResolvedColumn {
    var info: ColumnInfo
    var leafPath: [String]
    var physicalType: PhysicalType
    var typeLength: Int
    var maxDefinition: Int
    var maxRepetition: Int
    /// For lists: the definition level at which the list itself is present, and at which it
    /// has at least one element.
    var listPresentLevel = 0
    var listElementLevel = 0
}

enum ParquetSchema {
    /// Resolves the footer's flattened, pre-order schema into top-level columns.
    static func resolve(_ elements: [SchemaElement]) throws(ParquetError) -> [ResolvedColumn] {
        guard let root = elements.first, let rootChildren = root.numChildren, rootChildren >= 0 else {
            throw .corrupt("schema has no root group")
        }
        var index = 1
        var columns: [ResolvedColumn] = []
        for _ in 0..<rootChildren {
            guard index < elements.count else { throw .corrupt("schema ends early") }
            let node = try parseNode(elements, &index, depth: 0)
            columns.append(column(for: node))
        }
        guard index == elements.count else { throw .corrupt("schema has elements outside the root") }
        return columns
    }

    /// A schema node with its children, parsed from the flat list.
    private struct Node {
        var element: SchemaElement
        var children: [Node]
    }

    private static func parseNode(_ elements: [SchemaElement], _ index: inout Int, depth: Int) throws(ParquetError) -> Node {
        guard depth < 32 else { throw .corrupt("schema nested too deeply") }
        guard index < elements.count else { throw .corrupt("schema ends early") }
        let element = elements[index]
        index += 1
        var children: [Node] = []
        if let count = element.numChildren, element.type == nil {
            guard count >= 0, count <= elements.count - index else { throw .corrupt("schema group claims too many children") }
            for _ in 0..<count { children.append(try parseNode(elements, &index, depth: depth + 1)) }
        } else if element.type == nil {
            throw .corrupt("schema element '\(element.name)' has neither a type nor children")
        }
        return Node(element: element, children: children)
    }

    private static func levels(_ repetition: Repetition?) -> (def: Int, rep: Int) {
        switch repetition ?? .required {
        case .required: (0, 0)
        case .optional: (1, 0)
        case .repeated: (1, 1)
        }
    }

    private static func column(for node: Node) -> ResolvedColumn {
        let element = node.element
        let nullable = element.repetition == .optional
        let (ownDef, ownRep) = levels(element.repetition)
        func unsupported(_ why: String) -> ResolvedColumn {
            ResolvedColumn(
                info: ColumnInfo(name: element.name, kind: .unsupported(why), nullable: nullable), leafPath: [element.name],
                physicalType: element.type ?? .byteArray, typeLength: 0, maxDefinition: 0, maxRepetition: 0)
        }
        if let physical = element.type {
            if element.repetition == .repeated {
                // Legacy two-level list: a repeated primitive at the top level.
                guard physical == .byteArray, isText(element) else { return unsupported("repeated \(physical)") }
                return ResolvedColumn(
                    info: ColumnInfo(name: element.name, kind: .stringList, nullable: false), leafPath: [element.name], physicalType: physical,
                    typeLength: 0, maxDefinition: 1, maxRepetition: 1, listPresentLevel: 0, listElementLevel: 1)
            }
            return ResolvedColumn(
                info: ColumnInfo(name: element.name, kind: kind(of: element, physical), nullable: nullable), leafPath: [element.name],
                physicalType: physical, typeLength: Int(element.typeLength ?? 0), maxDefinition: ownDef, maxRepetition: 0)
        }
        let isList = element.logicalType == .list || element.convertedType == ConvertedType.list
        guard isList, node.children.count == 1 else { return unsupported("nested group") }
        let repeated = node.children[0]
        guard repeated.element.repetition == .repeated else { return unsupported("list without a repeated child") }
        var leaf = repeated
        var path = [element.name, repeated.element.name]
        var maxDef = ownDef + 1
        if repeated.element.type == nil {
            // Three-level list: repeated group holding one element.
            guard repeated.children.count == 1, repeated.children[0].element.type != nil else { return unsupported("list of structs") }
            leaf = repeated.children[0]
            path.append(leaf.element.name)
            maxDef += levels(leaf.element.repetition).def
            guard leaf.element.repetition != .repeated else { return unsupported("nested list") }
        }
        guard let physical = leaf.element.type, physical == .byteArray, isText(leaf.element) else {
            return unsupported("list of \(leaf.element.type.map { "\($0)" } ?? "groups")")
        }
        return ResolvedColumn(
            info: ColumnInfo(name: element.name, kind: .stringList, nullable: nullable), leafPath: path, physicalType: physical,
            typeLength: 0, maxDefinition: maxDef, maxRepetition: ownRep + 1, listPresentLevel: ownDef, listElementLevel: ownDef + 1)
    }

    private static func isText(_ element: SchemaElement) -> Bool {
        switch element.logicalType {
        case .string, .json, .enumeration: return true
        default: break
        }
        return [ConvertedType.utf8, ConvertedType.enumeration, ConvertedType.json].contains(element.convertedType ?? -1)
    }

    private static func kind(of element: SchemaElement, _ physical: PhysicalType) -> ColumnKind {
        switch physical {
        case .boolean: return .boolean
        case .int32:
            if element.logicalType == .date || element.convertedType == ConvertedType.date { return .date }
            return .int32
        case .int64:
            if case .timestamp(_, let unit) = element.logicalType { return .timestamp(unit) }
            if element.convertedType == ConvertedType.timestampMillis { return .timestamp(.millis) }
            if element.convertedType == ConvertedType.timestampMicros { return .timestamp(.micros) }
            return .int64
        case .int96: return .timestamp(.nanos)
        case .float: return .float
        case .double: return .double
        case .byteArray: return isText(element) ? .string : .binary
        case .fixedLenByteArray: return .binary
        }
    }
}
