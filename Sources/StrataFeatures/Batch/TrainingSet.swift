import Foundation
import StrataCore
import StrataLake
import StrataParquet

/// What a training set is made of: a spine of events (each a row: user, item, time), a label
/// (did a label event for the same user and item follow within the window?), and the user's
/// and item's features as of the row's time.
public struct TrainingSetSpec: Sendable {
    public var spine: String
    public var label: String?
    public var labelWindowMillis: Int64
    /// Feature names (default: every feature).
    public var features: [String]?

    public init(spine: String, label: String?, labelWindowMillis: Int64 = 1_800_000, features: [String]? = nil) {
        self.spine = spine
        self.label = label
        self.labelWindowMillis = labelWindowMillis
        self.features = features
    }
}

/// A materialised training set in the lake.
public struct TrainingSetResult: Sendable {
    /// Path relative to the lake root: `training-sets/<sha256>.parquet`.
    public var path: String
    public var rows: Int
    public var positives: Int
    public var features: [String]
    public var dataVersion: String

    public var json: JSONValue {
        [
            "path": .string(path), "rows": .int(rows), "positives": .int(positives), "features": .array(features.map { .string($0) }),
            "data_version": .string(dataVersion),
        ]
    }
}

/// A training set in memory: one row per spine event (in log order), its label, and every
/// wanted feature as of the event's time.
public struct TrainingRows: Sendable {
    public var users: [String]
    public var items: [String]
    public var timestamps: [Int64]
    public var labels: [Int64]
    /// The spine event's `recommendation_id` (the slate it was shown in), when it has one.
    public var recommendationIDs: [String?]
    /// Feature definitions in column order (user features, then item features).
    public var features: [FeatureDefinition]
    /// Per feature (column order), the value of every row.
    public var values: [[FieldValue?]]
    public var positives: Int { labels.reduce(0) { $0 + Int($1) } }
}

public enum TrainingSetBuilder {
    public static func build(
        _ spec: TrainingSetSpec, manifest: SnapshotManifest, lakeRoot: String, definitions: [FeatureDefinition], contract: Contract
    ) throws -> TrainingSetResult {
        let rows = try self.rows(spec, manifest: manifest, lakeRoot: lakeRoot, definitions: definitions, contract: contract)
        var columns = [
            WritableColumn(name: "user_id", kind: .string, nullable: false, values: .string(rows.users)),
            WritableColumn(name: "item_id", kind: .string, nullable: false, values: .string(rows.items)),
            WritableColumn(name: "timestamp", kind: .timestamp(.millis), nullable: false, values: .int64(rows.timestamps)),
            WritableColumn(name: "label", kind: .int64, nullable: false, values: .int64(rows.labels)),
        ]
        for (feature, values) in zip(rows.features, rows.values) { columns.append(featureColumn(feature, values)) }
        let metadata = [
            "strata.training_set": "1", "strata.data_version": manifest.version, "strata.contract_version": contract.version, "strata.spine": spec.spine,
            "strata.label": spec.label ?? "", "strata.label_window_ms": String(spec.labelWindowMillis),
        ]
        let bytes = try ParquetWriter.write(
            columns: columns, rowCount: rows.users.count, metadata: metadata,
            options: ParquetWriteOptions(codec: .zstd, createdBy: "strata \(StrataVersion.current)"))
        let sha = SHA256Hex.of(bytes)
        let relative = "training-sets/\(sha).parquet"
        try AtomicFile.write(bytes, to: "\(lakeRoot)/\(relative)")
        return TrainingSetResult(
            path: relative, rows: rows.users.count, positives: rows.positives, features: rows.features.map(\.name), dataVersion: manifest.version)
    }

    /// The rows of a training set, computed point-in-time over the snapshot.
    public static func rows(
        _ spec: TrainingSetSpec, manifest: SnapshotManifest, lakeRoot: String, definitions: [FeatureDefinition], contract: Contract
    ) throws -> TrainingRows {
        guard contract.eventType(named: spec.spine)?.field(named: "item_id") != nil else {
            throw StrataError.invalid("invalid_spine", "the spine '\(spec.spine)' must be a declared event type with an item_id")
        }
        if let label = spec.label, contract.eventType(named: label)?.field(named: "item_id") == nil {
            throw StrataError.invalid("invalid_label", "the label '\(label)' must be a declared event type with an item_id")
        }
        let wanted =
            try spec.features.map { names throws -> [FeatureDefinition] in
                try names.map { name in
                    guard let feature = definitions.first(where: { $0.name == name }) else {
                        throw StrataError.notFound("unknown_feature", "no feature '\(name)'")
                    }
                    return feature
                }
            } ?? definitions
        // Ratios need their parts computed too.
        var needed = wanted
        for feature in wanted where feature.aggregation == .ratio {
            for part in [feature.numerator!, feature.denominator!] where !needed.contains(where: { $0.name == part }) {
                needed.append(definitions.first { $0.name == part }!)
            }
        }
        var types = Set(needed.flatMap(\.sources))
        types.insert(spec.spine)
        if let label = spec.label { types.insert(label) }
        let events = try SnapshotReader(manifest: manifest, lakeRoot: lakeRoot).events(types: types)
        let spine = events.filter { $0.event.type == spec.spine && $0.event.userID != nil && $0.event.itemID != nil }.sorted { $0.offset < $1.offset }

        // Label times per (user, item), sorted, for a binary search per row.
        struct Pair: Hashable {
            var user: String
            var item: String
        }
        var labelTimes: [Pair: [Int64]] = [:]
        if let label = spec.label {
            for (_, event) in events where event.type == label {
                guard let user = event.userID, let item = event.itemID else { continue }
                labelTimes[Pair(user: user, item: item), default: []].append(event.timestamp)
            }
            for key in labelTimes.keys { labelTimes[key]!.sort() }
        }
        let userNames = wanted.filter { $0.entity == .user }.map(\.name)
        let itemNames = wanted.filter { $0.entity == .item }.map(\.name)
        var queries: [FeatureQuery] = []
        for (_, event) in spine {
            queries.append(FeatureQuery(entity: .user, id: event.userID!, time: event.timestamp))
            queries.append(FeatureQuery(entity: .item, id: event.itemID!, time: event.timestamp))
        }
        let userValues = try PointInTime.compute(
            definitions: needed, events: events, queries: queries.enumerated().filter { $0.offset % 2 == 0 }.map(\.element), features: userNames)
        let itemValues = try PointInTime.compute(
            definitions: needed, events: events, queries: queries.enumerated().filter { $0.offset % 2 == 1 }.map(\.element), features: itemNames)

        var labels: [Int64?] = []
        for (_, event) in spine {
            var label: Int64 = 0
            if let times = labelTimes[Pair(user: event.userID!, item: event.itemID!)] {
                // The first label time after the spine event, within the window.
                var low = 0
                var high = times.count
                while low < high {
                    let mid = (low + high) / 2
                    if times[mid] <= event.timestamp { low = mid + 1 } else { high = mid }
                }
                if low < times.count && times[low] - event.timestamp <= spec.labelWindowMillis { label = 1 }
            }
            labels.append(label)
        }
        let userFeatures = userNames.map { name in wanted.first { $0.name == name }! }
        let itemFeatures = itemNames.map { name in wanted.first { $0.name == name }! }
        var values: [[FieldValue?]] = []
        for (names, computed) in [(userNames, userValues), (itemNames, itemValues)] {
            for position in names.indices { values.append(computed.map { $0[position].value }) }
        }
        return TrainingRows(
            users: spine.map { $0.event.userID! }, items: spine.map { $0.event.itemID! }, timestamps: spine.map(\.event.timestamp),
            labels: labels.map { $0 ?? 0 }, recommendationIDs: spine.map { $0.event[field: "recommendation_id"]?.stringValue },
            features: userFeatures + itemFeatures, values: values)
    }

    static func featureColumn(_ feature: FeatureDefinition, _ values: [FieldValue?]) -> WritableColumn {
        let name = feature.name
        switch feature.valueType {
        case .int: return WritableColumn(name: name, kind: .int64, nullable: true, values: .int64(values.map { $0?.intValue }))
        case .double: return WritableColumn(name: name, kind: .double, nullable: true, values: .double(values.map { $0?.numericValue }))
        case .bool: return WritableColumn(name: name, kind: .boolean, nullable: true, values: .boolean(values.map { $0?.boolValue }))
        case .string: return WritableColumn(name: name, kind: .string, nullable: true, values: .string(values.map { $0?.stringValue }))
        case .timestamp: return WritableColumn(name: name, kind: .timestamp(.millis), nullable: true, values: .int64(values.map { $0?.timestampValue }))
        case .stringList:
            return WritableColumn(
                name: name, kind: .stringList, nullable: true,
                values: .stringList(values.map { value in if case .stringList(let list)? = value { list } else { nil } }))
        }
    }
}
