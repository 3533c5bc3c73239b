import Foundation
import StrataCore

/// Streams the rows of an RFC 4180 CSV (or tab-separated) file: quoted fields, doubled quotes,
/// embedded newlines, CRLF or LF line ends. Reads in 1 MB chunks, so files of any size import
/// in constant memory. (Written here because the CSV package available offline reports the end
/// of a file stream as a read error on Linux.)
public struct CSVRowReader {
    private let handle: FileHandle
    private let path: String
    private let delimiter: UInt8
    private var buffer: [UInt8] = []
    private var position = 0
    private var atEnd = false
    private(set) var line = 0

    public init(path: String, delimiter: UInt8 = 0x2C) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw StrataError.notFound("file_not_found", "cannot open \(path)") }
        self.handle = handle
        self.path = path
        self.delimiter = delimiter
    }

    /// The next row's fields (trimmed of surrounding spaces when unquoted), or nil at the end.
    public mutating func next() throws -> [String]? {
        var fields: [String] = []
        var field: [UInt8] = []
        var quoted = false
        var wasQuoted = false
        var started = false
        while true {
            guard let byte = try nextByte() else {
                guard started else { return nil }
                if quoted { throw StrataError.invalid("invalid_csv", "\(path): a quoted field opened on line \(line + 1) never closes") }
                fields.append(finish(field, wasQuoted))
                line += 1
                return fields
            }
            started = true
            if quoted {
                if byte == 0x22 {
                    if peekByte() == 0x22 {
                        _ = try nextByte()
                        field.append(0x22)
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(byte)
                }
                continue
            }
            switch byte {
            case 0x22 where field.allSatisfy({ $0 == 0x20 }):
                field.removeAll()
                quoted = true
                wasQuoted = true
            case delimiter:
                fields.append(finish(field, wasQuoted))
                field.removeAll(keepingCapacity: true)
                wasQuoted = false
            case 0x0A:
                fields.append(finish(field, wasQuoted))
                line += 1
                return fields
            case 0x0D where peekByte() == 0x0A:
                continue
            default:
                field.append(byte)
            }
        }
    }

    private func finish(_ field: [UInt8], _ wasQuoted: Bool) -> String {
        let text = String(decoding: field, as: UTF8.self)
        return wasQuoted ? text : text.trimmingCharacters(in: .whitespaces)
    }

    private mutating func nextByte() throws -> UInt8? {
        if position >= buffer.count {
            guard try refill() else { return nil }
        }
        defer { position += 1 }
        return buffer[position]
    }

    private mutating func peekByte() -> UInt8? {
        if position >= buffer.count { guard (try? refill()) == true else { return nil } }
        return buffer[position]
    }

    private mutating func refill() throws -> Bool {
        guard !atEnd else { return false }
        let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
        if chunk.isEmpty {
            atEnd = true
            return false
        }
        buffer = [UInt8](chunk)
        position = 0
        return true
    }
}
