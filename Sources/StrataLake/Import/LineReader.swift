import Foundation

/// Lines of a file, read in 4 MB chunks (any file size, constant memory). Lines are returned
/// without their `\n`.
public struct LineReader {
    let handle: FileHandle
    private var buffer: [UInt8] = []
    private var position = 0
    private var atEnd = false

    public init(handle: FileHandle) {
        self.handle = handle
    }

    public mutating func next() throws -> [UInt8]? {
        while true {
            if let newline = buffer[position...].firstIndex(of: 0x0A) {
                defer { position = newline + 1 }
                return Array(buffer[position..<newline])
            }
            if atEnd {
                guard position < buffer.count else { return nil }
                defer { position = buffer.count }
                return Array(buffer[position...])
            }
            let chunk = try handle.read(upToCount: 4 << 20) ?? Data()
            buffer.removeSubrange(0..<position)
            position = 0
            if chunk.isEmpty { atEnd = true } else { buffer += chunk }
        }
    }
}
