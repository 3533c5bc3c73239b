/// Records framed for the log: `[u32 length][u32 CRC-32C of payload][payload]`, little-endian.
///
/// Callers build a batch outside any lock (payload encoding and checksums are the expensive
/// part), then hand the finished bytes to the log in one copy.
public struct FramedBatch: Sendable {
    public static let headerSize = 8
    /// Upper bound of one payload; a larger length in a file means a torn or corrupt frame.
    public static let maxPayloadSize = 64 << 20

    public internal(set) var bytes: [UInt8] = []
    public internal(set) var count = 0
    private var openRecord: Int?

    public init(reservingCapacity capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    public var isEmpty: Bool { count == 0 }

    /// Starts a record; write its payload with `withPayload`, then `commitRecord` or `abandonRecord`.
    mutating func beginRecord() {
        precondition(openRecord == nil, "a framed record is already open")
        openRecord = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: Self.headerSize))
    }

    /// Direct access to the buffer for the open record's payload.
    mutating func withPayload<R>(_ body: (inout [UInt8]) throws -> R) rethrows -> R {
        precondition(openRecord != nil, "no framed record is open")
        return try body(&bytes)
    }

    mutating func commitRecord() {
        guard let start = openRecord else { preconditionFailure("no framed record is open") }
        let payloadStart = start + Self.headerSize
        let length = bytes.count - payloadStart
        let crc = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[payloadStart...])) }
        bytes.patchUInt32LE(UInt32(length), at: start)
        bytes.patchUInt32LE(crc, at: start + 4)
        count += 1
        openRecord = nil
    }

    mutating func abandonRecord() {
        guard let start = openRecord else { return }
        bytes.removeSubrange(start...)
        openRecord = nil
    }

    /// Appends a complete payload as one record.
    public mutating func append(payload: [UInt8]) {
        beginRecord()
        bytes.append(contentsOf: payload)
        commitRecord()
    }
}
