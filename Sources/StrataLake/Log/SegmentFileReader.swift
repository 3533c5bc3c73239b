import Foundation

/// Sequential, buffered reading of framed records from one segment file.
struct SegmentFileReader {
    enum Status {
        /// A record was passed to the body.
        case record
        /// The file ends exactly here.
        case end
        /// An incomplete, oversized or checksum-failing frame starts here.
        case invalid
    }

    let fd: Int32
    let fileSize: Int
    /// File position of the next frame.
    private(set) var position: Int
    /// End of the last intact frame read.
    private(set) var validEnd: Int
    private var buffer: [UInt8] = []
    private var bufferStart = 0

    init(fd: Int32, fileSize: Int, position: Int) {
        self.fd = fd
        self.fileSize = fileSize
        self.position = position
        self.validEnd = position
    }

    /// Reads the next frame, passing its payload to `body` when it is intact.
    mutating func next(_ body: (UnsafeRawBufferPointer) throws -> Void) rethrows -> Status {
        if position == fileSize { return .end }
        guard ensure(FramedBatch.headerSize) else { return .invalid }
        let offset = position - bufferStart
        let (length, crc) = buffer.withUnsafeBytes { raw in
            (
                Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))),
                UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
            )
        }
        guard length > 0, length <= FramedBatch.maxPayloadSize, ensure(FramedBatch.headerSize + length) else { return .invalid }
        let payloadStart = position - bufferStart + FramedBatch.headerSize
        let intact = buffer.withUnsafeBytes { raw in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[payloadStart..<(payloadStart + length)])) == crc
        }
        guard intact else { return .invalid }
        try buffer.withUnsafeBytes { raw in try body(UnsafeRawBufferPointer(rebasing: raw[payloadStart..<(payloadStart + length)])) }
        position += FramedBatch.headerSize + length
        validEnd = position
        return .record
    }

    /// Skips the next frame without checking its checksum (positioning to an offset).
    mutating func skip() -> Bool {
        guard position < fileSize, ensure(FramedBatch.headerSize) else { return false }
        let offset = position - bufferStart
        let length = buffer.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self))) }
        guard length > 0, length <= FramedBatch.maxPayloadSize, position + FramedBatch.headerSize + length <= fileSize else { return false }
        position += FramedBatch.headerSize + length
        validEnd = position
        return true
    }

    /// For the recovery scan: reports each frame as intact or not.
    mutating func nextFrame() -> (valid: Bool, Void)? {
        switch next({ _ in }) {
        case .record: return (true, ())
        case .invalid: return (false, ())
        case .end: return nil
        }
    }

    /// Makes `count` bytes from `position` available in the buffer; false if the file is shorter.
    private mutating func ensure(_ count: Int) -> Bool {
        guard position + count <= fileSize else { return false }
        if position >= bufferStart && position + count <= bufferStart + buffer.count { return true }
        let want = min(max(count, 1 << 20), fileSize - position)
        if buffer.count != want { buffer = [UInt8](repeating: 0, count: want) }
        var filled = 0
        buffer.withUnsafeMutableBytes { raw in
            while filled < want {
                let result = pread(fd, raw.baseAddress! + filled, want - filled, off_t(position + filled))
                if result < 0 && errno == EINTR { continue }
                if result <= 0 { break }
                filled += result
            }
        }
        bufferStart = position
        if filled < want { buffer.removeSubrange(filled...) }
        return filled >= count
    }
}
