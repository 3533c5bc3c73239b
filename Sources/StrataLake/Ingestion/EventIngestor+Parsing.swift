import Foundation
import StrataCore
import SwiftProtobuf

extension EventIngestor {
    /// Parses and validates a request body into a framed batch. Only whole-request problems
    /// (too many events, a JSON array that is not JSON, an undecodable Protobuf message) throw;
    /// a bad event becomes a rejection and the others go on.
    public func prepare(body: UnsafeRawBufferPointer, format: BatchFormat, source: String, allowLate: Bool = false) throws(StrataError) -> PreparedBatch {
        var prepared = PreparedBatch(ingestedAt: clock.nowMillis(), source: source)
        prepared.batch = FramedBatch(reservingCapacity: body.count + body.count / 4)
        let options = EventValidator.Options(scope: .behavioural, allowLate: allowLate)
        var members: [RawMember] = []
        var scratch: [UInt8] = []
        switch format {
        case .ndjson:
            let lines = countLines(body)
            guard lines <= config.maxBatchEvents else { throw tooManyEvents(lines) }
            var index = 0
            var lineStart = 0
            while lineStart < body.count {
                let lineEnd =
                    memchr(body.baseAddress! + lineStart, 0x0A, body.count - lineStart).map { $0 - UnsafeMutableRawPointer(mutating: body.baseAddress!) }
                    ?? body.count
                let line = UnsafeRawBufferPointer(rebasing: body[lineStart..<lineEnd])
                lineStart = lineEnd + 1
                guard !isBlank(line) else { continue }
                validateJSONObject(line, index: index, options: options, members: &members, scratch: &scratch, into: &prepared)
                index += 1
            }
        case .json:
            var scanner = JSONScanner(body)
            guard let first = scanner.peekToken() else {
                throw StrataError.invalid("empty_body", "the request body is empty; send a JSON event, a JSON array or NDJSON")
            }
            if first == UInt8(ascii: "{") {
                prepared.isSingleEvent = true
                validateJSONObject(body, index: 0, options: options, members: &members, scratch: &scratch, into: &prepared)
            } else if first == UInt8(ascii: "[") {
                let elements = try arrayElements(body)
                guard elements.count <= config.maxBatchEvents else { throw tooManyEvents(elements.count) }
                for (index, range) in elements.enumerated() {
                    validateJSONObject(
                        UnsafeRawBufferPointer(rebasing: body[range]), index: index, options: options, members: &members, scratch: &scratch, into: &prepared)
                }
            } else {
                throw StrataError.invalid(
                    "malformed_json",
                    "the body must be a JSON object (one event) or a JSON array of events; for one event per line use Content-Type application/x-ndjson")
            }
        case .protobuf:
            try prepareProtobuf(body, options: options, into: &prepared)
        }
        return prepared
    }

    /// Validates one JSON object (a line, an array element, a body) into the batch.
    func validateJSONObject(
        _ text: UnsafeRawBufferPointer, index: Int, options: EventValidator.Options, members: inout [RawMember], scratch: inout [UInt8],
        into prepared: inout PreparedBatch
    ) {
        var scanner = JSONScanner(text)
        do throws(JSONScanError) {
            guard scanner.peekToken() == UInt8(ascii: "{") else {
                reject(Rejection(index: index, field: nil, code: "not_an_object", message: "each event must be a JSON object"), raw: text, into: &prepared)
                return
            }
            try JSONObjectScanner.scan(&scanner, into: &members, scratch: &scratch)
            scanner.skipWhitespace()
            guard scanner.isAtEnd else { throw scanner.error("unexpected content after the event object") }
        } catch {
            reject(Rejection(index: index, field: nil, code: "malformed_json", message: error.description), raw: text, into: &prepared)
            return
        }
        validate(members, scratch: scratch, body: text, index: index, options: options, raw: text, into: &prepared)
    }

    func validate(
        _ members: [RawMember], scratch: [UInt8], body: UnsafeRawBufferPointer, index: Int, options: EventValidator.Options, raw: UnsafeRawBufferPointer,
        into prepared: inout PreparedBatch
    ) {
        let record = prepared.batch.count
        let start = prepared.batch.bytes.count
        let outcome = scratch.withUnsafeBytes { scratchBytes -> Result<EventValidator.Accepted, FieldFailure> in
            Result { () throws(FieldFailure) -> EventValidator.Accepted in
                try validator.validate(
                    members, buffers: RawBuffers(body: body, scratch: scratchBytes), ingestedAt: prepared.ingestedAt, options: options, into: &prepared.batch)
            }
        }
        switch outcome {
        case .success(let accepted):
            if let fingerprint = accepted.fingerprint {
                if prepared.frameStarts.isEmpty && record > 0 {
                    prepared.frameStarts = Self.frameStarts(of: prepared.batch.bytes, count: record)
                }
                prepared.fingerprints.append((record, fingerprint))
            }
            if !prepared.fingerprints.isEmpty { prepared.frameStarts.append(start) }
            if prepared.acceptedByType.isEmpty { prepared.acceptedByType = Array(repeating: 0, count: validator.compiled.types.count) }
            prepared.acceptedByType[accepted.typeIndex] += 1
        case .failure(let failure):
            reject(Rejection(index: index, field: failure.field, code: failure.code, message: failure.message), raw: raw, into: &prepared)
        }
    }

    func reject(_ rejection: Rejection, raw: UnsafeRawBufferPointer, into prepared: inout PreparedBatch) {
        let limit = config.deadLetterRawBytes
        var text = String(decoding: raw.prefix(limit), as: UTF8.self)
        if raw.count > limit { text += "…" }
        prepared.rejections.append((rejection, text))
    }

    /// Byte positions of the first `count` frames of a batch.
    static func frameStarts(of bytes: [UInt8], count: Int) -> [Int] {
        var starts: [Int] = []
        starts.reserveCapacity(count)
        var position = 0
        bytes.withUnsafeBytes { raw in
            for _ in 0..<count {
                starts.append(position)
                let length = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
                position += FramedBatch.headerSize + length
            }
        }
        return starts
    }

    private func countLines(_ body: UnsafeRawBufferPointer) -> Int {
        var count = 0
        var lineStart = 0
        while lineStart < body.count {
            let lineEnd =
                memchr(body.baseAddress! + lineStart, 0x0A, body.count - lineStart).map { $0 - UnsafeMutableRawPointer(mutating: body.baseAddress!) }
                ?? body.count
            if !isBlank(UnsafeRawBufferPointer(rebasing: body[lineStart..<lineEnd])) { count += 1 }
            lineStart = lineEnd + 1
        }
        return count
    }

    private func isBlank(_ line: UnsafeRawBufferPointer) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    /// Byte ranges of the elements of a JSON array body; the whole body must be valid JSON.
    private func arrayElements(_ body: UnsafeRawBufferPointer) throws(StrataError) -> [Range<Int>] {
        var scanner = JSONScanner(body)
        var elements: [Range<Int>] = []
        do throws(JSONScanError) {
            try scanner.expect(UInt8(ascii: "["))
            if !scanner.consume(UInt8(ascii: "]")) {
                repeat {
                    elements.append(try scanner.skipValue())
                    if elements.count > config.maxBatchEvents { throw scanner.error("more than \(config.maxBatchEvents) events") }
                } while scanner.consume(UInt8(ascii: ","))
                try scanner.expect(UInt8(ascii: "]"))
            }
            scanner.skipWhitespace()
            guard scanner.isAtEnd else { throw scanner.error("unexpected content after the array") }
        } catch {
            if elements.count > config.maxBatchEvents { throw tooManyEvents(elements.count) }
            throw StrataError.invalid(
                "malformed_json",
                "the JSON array is not valid JSON (\(error)); nothing was stored. NDJSON (one event per line) lets valid events through when some are damaged")
        }
        return elements
    }

    private func tooManyEvents(_ count: Int) -> StrataError {
        StrataError(
            .tooLarge, code: "batch_too_large",
            "the batch holds \(count) events; the limit is \(config.maxBatchEvents) (ingest.max_batch_events). Split it into smaller batches")
    }
}
