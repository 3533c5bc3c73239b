import Foundation
import StrataCore
import StrataParquet

/// Loads history into the lake through the same validation path as live events. Imports are
/// backfills, so the lateness window does not apply; every other contract rule does. Rows get
/// deterministic event ids (file hash + row number) unless a column supplies them, so running
/// the same import twice within the de-duplication window stores each event once.
public struct Importer: Sendable {
    let ingestor: EventIngestor
    let batchSize: Int

    public init(ingestor: EventIngestor, batchSize: Int = 5000) {
        self.ingestor = ingestor
        self.batchSize = batchSize
    }

    public func run(_ spec: ImportSpec, progress: @Sendable (ImportReport) -> Void = { _ in }) async throws -> ImportReport {
        guard FileManager.default.fileExists(atPath: spec.path) else {
            throw StrataError.notFound("file_not_found", "no file at \(spec.path)")
        }
        let source = "import:\((spec.path as NSString).lastPathComponent)"
        var report = ImportReport()
        switch spec.format {
        case .ndjson where spec.eventType != nil || !spec.mapping.isEmpty:
            try await importNDJSONRows(spec, source: source, report: &report, progress: progress)
        case .ndjson:
            try await importNDJSON(spec, source: source, report: &report, progress: progress)
        case .csv, .movielens:
            try await importRows(spec, source: source, report: &report, progress: progress)
        case .parquet:
            try await importParquet(spec, source: source, report: &report, progress: progress)
        }
        return report
    }

    // MARK: - NDJSON

    private func importNDJSON(_ spec: ImportSpec, source: String, report: inout ImportReport, progress: @Sendable (ImportReport) -> Void) async throws {
        guard let handle = FileHandle(forReadingAtPath: spec.path) else { throw StrataError.notFound("file_not_found", "cannot open \(spec.path)") }
        defer { try? handle.close() }
        var reader = LineReader(handle: handle)
        var lines: [[UInt8]] = []
        let limit = min(batchSize, ingestor.config.maxBatchEvents)
        while true {
            let line = try reader.next()
            if let line, !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { lines.append(line) }
            guard lines.count >= limit || (line == nil && !lines.isEmpty) else {
                if line == nil { break }
                continue
            }
            let result = try await ingestor.ingest(body: Array(lines.joined(separator: [0x0A])), format: .ndjson, source: source, allowLate: true)
            record(result, rows: lines.count, into: &report)
            progress(report)
            lines.removeAll(keepingCapacity: true)
        }
    }

    /// NDJSON whose objects are rows of one event type, mapped like CSV columns.
    private func importNDJSONRows(_ spec: ImportSpec, source: String, report: inout ImportReport, progress: @Sendable (ImportReport) -> Void) async throws {
        guard let handle = FileHandle(forReadingAtPath: spec.path) else { throw StrataError.notFound("file_not_found", "cannot open \(spec.path)") }
        defer { try? handle.close() }
        guard let typeName = spec.eventType, let schema = ingestor.contract.contract.eventType(named: typeName) else {
            throw StrataError.invalid("missing_event_type", "NDJSON rows need --type naming a declared event type")
        }
        // Columns are looked up by name in each object: every target's mapped (or own) name.
        let targets = ["user_id", "timestamp", "event_id"] + schema.fields.map(\.name)
        let header = targets.map { spec.mapping[$0] ?? $0 }
        let mapper = try RowMapper(spec: spec, header: header, contract: ingestor.contract.contract, fileTag: try fileTag(spec.path))
        var pending: [IncomingEntry] = []
        var row = 0
        var reader = LineReader(handle: handle)
        while let line = try reader.next() {
            guard !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) else { continue }
            if let object = (try? JSONValue.parse(bytes: line))?.objectValue {
                pending.append(.event(mapper.event(typed: header.map { object[$0].flatMap(EventIngestor.fieldValue) }, row: row)))
            } else {
                pending.append(
                    .invalid(code: "not_an_object", message: "line \(row + 1) is not a JSON object", raw: String(decoding: line.prefix(4096), as: UTF8.self)))
            }
            row += 1
            if pending.count >= batchSize {
                try await flush(&pending, source: source, report: &report)
                progress(report)
            }
        }
        try await flush(&pending, source: source, report: &report)
        progress(report)
    }

    // MARK: - CSV and MovieLens

    private func importRows(_ spec: ImportSpec, source: String, report: inout ImportReport, progress: @Sendable (ImportReport) -> Void) async throws {
        let isUData = spec.format == .movielens && (spec.path as NSString).lastPathComponent.lowercased() == "u.data"
        var reader = try CSVRowReader(path: spec.path, delimiter: isUData ? 0x09 : 0x2C)
        let header = isUData ? ["userId", "movieId", "rating", "timestamp"] : (try reader.next() ?? [])
        let mapper = try RowMapper(spec: spec, header: header, contract: ingestor.contract.contract, fileTag: try fileTag(spec.path))
        report.ignoredColumns = mapper.ignoredColumns
        var pending: [IncomingEvent] = []
        var row = 0
        while let cells = try reader.next() {
            pending.append(mapper.event(cells, row: row))
            row += 1
            if pending.count >= batchSize {
                try await flush(&pending, source: source, report: &report)
                progress(report)
            }
        }
        try await flush(&pending, source: source, report: &report)
        progress(report)
    }

    // MARK: - Parquet

    private func importParquet(_ spec: ImportSpec, source: String, report: inout ImportReport, progress: @Sendable (ImportReport) -> Void) async throws {
        guard let bytes = AtomicFile.read(spec.path) else { throw StrataError.notFound("file_not_found", "cannot read \(spec.path)") }
        let reader: ParquetReader
        do {
            reader = try ParquetReader(bytes: bytes)
        } catch {
            throw StrataError.invalid("invalid_parquet", "\(spec.path): \(error)")
        }
        let header = reader.columns.map(\.name)
        var columns: [[FieldValue?]] = []
        for column in reader.columns {
            if case .unsupported = column.kind {
                columns.append(Array(repeating: nil, count: reader.rowCount))
                continue
            }
            do {
                columns.append(LakeFileReader.convert(try reader.read(column: column.name), kind: column.kind))
            } catch {
                throw StrataError.invalid("invalid_parquet", "\(spec.path) column \(column.name): \(error)")
            }
        }
        let mapper = try RowMapper(spec: spec, header: header, contract: ingestor.contract.contract, fileTag: SHA256Hex.of(bytes).prefix(12).description)
        report.ignoredColumns = mapper.ignoredColumns
        var pending: [IncomingEvent] = []
        for row in 0..<reader.rowCount {
            pending.append(mapper.event(typed: columns.map { $0[row] }, row: row))
            if pending.count >= batchSize {
                try await flush(&pending, source: source, report: &report)
                progress(report)
            }
        }
        try await flush(&pending, source: source, report: &report)
        progress(report)
    }

    // MARK: - Helpers

    private func flush(_ pending: inout [IncomingEvent], source: String, report: inout ImportReport) async throws {
        var entries = pending.map(IncomingEntry.event)
        try await flush(&entries, source: source, report: &report)
        pending.removeAll(keepingCapacity: true)
    }

    private func flush(_ pending: inout [IncomingEntry], source: String, report: inout ImportReport) async throws {
        guard !pending.isEmpty else { return }
        let result = try await ingestor.commit(ingestor.prepare(entries: pending, source: source, options: EventValidator.Options(allowLate: true)))
        record(result, rows: pending.count, into: &report)
        pending.removeAll(keepingCapacity: true)
    }

    private func record(_ result: IngestResult, rows: Int, into report: inout ImportReport) {
        report.rows += rows
        report.accepted += result.accepted
        report.duplicates += result.duplicates
        report.rejected += result.rejected.count
        let offset = report.rows - rows
        for rejection in result.rejected.prefix(max(0, 10 - report.sampleRejections.count)) {
            var shown = rejection
            shown.index += offset
            report.sampleRejections.append(shown)
        }
    }

    /// A short hash of the file's content, the stem of generated event ids.
    private func fileTag(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw StrataError.notFound("file_not_found", "cannot open \(path)") }
        defer { try? handle.close() }
        var hasher = SHA256Stream()
        while true {
            let chunk = handle.readData(ofLength: 4 << 20)
            if chunk.isEmpty { break }
            hasher.update([UInt8](chunk))
        }
        return String(hasher.finalizeHex().prefix(12))
    }
}
