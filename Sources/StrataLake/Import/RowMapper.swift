import StrataCore

/// Maps the columns of a tabular source onto the fields of one event type.
struct RowMapper {
    let type: String
    /// Target name (envelope or field) → column index.
    let columns: [(target: String, type: FieldType?, index: Int)]
    let eventIDColumn: Int?
    let userIDColumn: Int?
    let timestampColumn: Int?
    let timeUnit: ImportSpec.TimeUnit
    let listSeparator: Character
    let fileTag: String
    let ignoredColumns: [String]

    init(spec: ImportSpec, header: [String], contract: Contract, fileTag: String) throws {
        var mapping = spec.mapping
        var unit = spec.timeUnit
        var typeName = spec.eventType
        if spec.format == .movielens {
            typeName = typeName ?? "rate"
            for (target, column) in [("user_id", "userId"), ("item_id", "movieId"), ("rating", "rating"), ("timestamp", "timestamp")]
            where mapping[target] == nil {
                mapping[target] = column
            }
            if unit == .auto { unit = .seconds }
        }
        guard let typeName else {
            throw StrataError.invalid(
                "missing_event_type", "say which event type the rows are: --type (declared: \(contract.eventTypes.map(\.name).joined(separator: ", ")))")
        }
        guard let schema = contract.eventType(named: typeName) else {
            throw StrataError.invalid(
                "unknown_event_type",
                "the contract declares no event type '\(typeName)' (declared: \(contract.eventTypes.map(\.name).joined(separator: ", "))); declare it or pass --type"
            )
        }
        let positions = Dictionary(header.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        func column(_ target: String, required: Bool) throws -> Int? {
            let name = mapping[target] ?? target
            if let index = positions[name] { return index }
            if mapping[target] != nil || required {
                throw StrataError.invalid(
                    "missing_column",
                    "no column '\(name)' for \(target) in \(spec.path) (columns: \(header.joined(separator: ", "))); map one with --map \(target)=COLUMN")
            }
            return nil
        }
        for target in mapping.keys where target != "user_id" && target != "event_id" && target != "timestamp" && schema.field(named: target) == nil {
            throw StrataError.invalid(
                "unknown_field", "--map \(target)=… names no field of \(typeName) (fields: \(schema.fields.map(\.name).joined(separator: ", ")))")
        }
        self.type = typeName
        self.userIDColumn = try column("user_id", required: true)
        self.timestampColumn = try column("timestamp", required: true)
        self.eventIDColumn = try column("event_id", required: false)
        self.columns = try schema.fields.compactMap { field in try column(field.name, required: false).map { (field.name, field.type, $0) } }
        let used = Set(columns.map(\.index) + [userIDColumn, timestampColumn, eventIDColumn].compactMap { $0 })
        self.ignoredColumns = header.enumerated().filter { !used.contains($0.offset) }.map(\.element)
        self.timeUnit = unit
        self.listSeparator = spec.listSeparator
        self.fileTag = fileTag
    }

    /// An event from text cells.
    func event(_ cells: [String], row: Int) -> IncomingEvent {
        func cell(_ index: Int?) -> String? {
            guard let index, index < cells.count, !cells[index].isEmpty else { return nil }
            return cells[index]
        }
        let fields: [(name: String, value: FieldValue?)] = columns.map { column in
            (column.target, cell(column.index).map { parse($0, as: column.type) })
        }
        return IncomingEvent(
            type: type, eventID: cell(eventIDColumn) ?? "imp-\(fileTag)-\(row)", userID: cell(userIDColumn), time: cell(timestampColumn).map(time),
            fields: fields)
    }

    /// An event from typed cells (Parquet).
    func event(typed cells: [FieldValue?], row: Int) -> IncomingEvent {
        func cell(_ index: Int?) -> FieldValue? { index.flatMap { cells[$0] } }
        func text(_ value: FieldValue?) -> String? {
            switch value {
            case .string(let v)?: v
            case .int(let v)?: String(v)
            default: nil
            }
        }
        let fields: [(name: String, value: FieldValue?)] = columns.map { column in
            var value = cell(column.index)
            if column.type == .string, case .int(let v)? = value { value = .string(String(v)) }
            if column.type == .timestamp, case .int(let v)? = value { value = .timestamp(millis(v)) }
            return (column.target, value)
        }
        let timeValue: IncomingEvent.Time?
        switch cell(timestampColumn) {
        case .timestamp(let ms)?: timeValue = .millis(ms)
        case .int(let v)?: timeValue = .millis(millis(v))
        case .string(let text)?: timeValue = time(text)
        default: timeValue = nil
        }
        return IncomingEvent(
            type: type, eventID: text(cell(eventIDColumn)) ?? "imp-\(fileTag)-\(row)", userID: text(cell(userIDColumn)), time: timeValue, fields: fields)
    }

    private func parse(_ text: String, as type: FieldType?) -> FieldValue {
        switch type {
        case .int?: if let v = Int64(text) { return .int(v) }
        case .double?: if let v = Double(text) { return .double(v) }
        case .bool?:
            switch text.lowercased() {
            case "true", "1", "yes": return .bool(true)
            case "false", "0", "no": return .bool(false)
            default: break
            }
        case .timestamp?: if let v = Int64(text) { return .timestamp(millis(v)) }
        case .stringList?: return .stringList(text.split(separator: listSeparator).map(String.init))
        default: break
        }
        // Left as text: the validator names the type mismatch.
        return .string(text)
    }

    private func time(_ text: String) -> IncomingEvent.Time {
        if let number = Int64(text) { return .millis(millis(number)) }
        if let number = Double(text), number.isFinite, abs(number) < 1e15 {
            let inSeconds = timeUnit == .seconds || (timeUnit == .auto && abs(number) < 1e11)
            return .millis(Int64((inSeconds ? number * 1000 : number).rounded(.down)))
        }
        return .text(text)
    }

    /// Epoch numbers to milliseconds; `auto` reads values below 10^11 as seconds.
    private func millis(_ value: Int64) -> Int64 {
        switch timeUnit {
        case .seconds: value * 1000
        case .millis: value
        case .auto: abs(value) < 100_000_000_000 ? value * 1000 : value
        }
    }
}
