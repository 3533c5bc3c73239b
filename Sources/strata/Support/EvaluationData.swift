import Foundation
import StrataCore
import StrataLake
import StrataML

/// Loading the datasets `strata evaluate` and the ML benchmarks work on.
enum EvaluationData {
    /// The anchor's split files: `train.tsv` and `test.tsv` (user, item, timestamp; no header).
    static func splitFolder(_ directory: String) throws -> EvaluationSplit {
        func read(_ name: String) throws -> [TimedInteraction] {
            let path = "\(directory)/\(name)"
            guard let handle = FileHandle(forReadingAtPath: path) else { throw StrataError.notFound("file_not_found", "no \(name) in \(directory)") }
            defer { try? handle.close() }
            var reader = LineReader(handle: handle)
            var rows: [TimedInteraction] = []
            var line = 0
            while let bytes = try reader.next() {
                line += 1
                let fields = bytes.split(separator: 0x09, omittingEmptySubsequences: false)
                guard fields.count >= 2 else {
                    if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) { continue }
                    throw StrataError.invalid("invalid_split", "\(path):\(line): expected user<TAB>item<TAB>timestamp")
                }
                let timestamp = fields.count > 2 ? Int64(String(decoding: fields[2], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 : 0
                rows.append(
                    TimedInteraction(user: String(decoding: fields[0], as: UTF8.self), item: String(decoding: fields[1], as: UTF8.self), timestamp: timestamp))
            }
            return rows
        }
        return EvaluationSplit.fixed(train: try read("train.tsv"), test: try read("test.tsv"))
    }

    /// MovieLens ratings (`ratings.csv` or `u.data`): every rating one interaction of weight 1,
    /// split temporally per user.
    static func movieLens(_ path: String) throws -> EvaluationSplit {
        let isUData = (path as NSString).lastPathComponent.lowercased() == "u.data"
        var reader = try CSVRowReader(path: path, delimiter: isUData ? 0x09 : 0x2C)
        if !isUData { _ = try reader.next() }
        var rows: [TimedInteraction] = []
        while let cells = try reader.next() {
            guard cells.count >= 4, let timestamp = Int64(cells[3]) else { continue }
            rows.append(TimedInteraction(user: cells[0], item: cells[1], timestamp: timestamp))
        }
        return EvaluationSplit.temporal(rows)
    }
}
