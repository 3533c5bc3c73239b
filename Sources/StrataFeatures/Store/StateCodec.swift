import DequeModule
import StrataCore
import StrataLake

/// Binary form of feature states, for the online store's snapshots.
enum StateCodec {
    static func append(_ state: any FeatureWindow, to out: inout [UInt8]) {
        switch state {
        case let window as ExactWindow:
            out.append(1)
            out.appendZigzag(window.length)
            out.appendZigzag(window.now)
            out.appendVarint(UInt64(window.high))
            append(window.aggregate, to: &out)
            out.appendVarint(UInt64(window.events.count))
            for event in window.events { append(event, to: &out) }
        case let window as BucketedWindow:
            out.append(2)
            out.appendZigzag(window.length)
            out.appendZigzag(window.bucket)
            out.appendZigzag(window.now)
            append(window.total, to: &out)
            out.appendVarint(UInt64(window.buckets.count))
            for entry in window.buckets {
                out.appendZigzag(entry.index)
                append(entry.aggregate, to: &out)
            }
            appendEvents(window.pending, to: &out)
        case let state as LifetimeAggregate:
            out.append(3)
            out.appendZigzag(state.now)
            append(state.aggregate, to: &out)
            appendEvents(state.pending, to: &out)
        default:
            preconditionFailure("unknown feature window type")
        }
    }

    static func read(_ reader: inout PayloadReader) throws(LogDecodeError) -> any FeatureWindow {
        switch try reader.byte() {
        case 1:
            let window = ExactWindow(length: try reader.zigzag())
            window.now = try reader.zigzag()
            window.high = Int(try reader.varint())
            window.aggregate = try readAggregate(&reader)
            let count = try reader.varint()
            guard count <= UInt64(reader.bytes.count), window.high <= Int(count) else { throw LogDecodeError(message: "window larger than the snapshot") }
            window.events = Deque(try (0..<Int(count)).map { (_) throws(LogDecodeError) in try readEvent(&reader) })
            return window
        case 2:
            let window = BucketedWindow(length: try reader.zigzag(), bucket: try reader.zigzag())
            guard window.bucket > 0, window.length > 0 else { throw LogDecodeError(message: "invalid bucket size") }
            window.now = try reader.zigzag()
            window.total = try readAggregate(&reader)
            let count = try reader.varint()
            guard count <= UInt64(reader.bytes.count) else { throw LogDecodeError(message: "buckets beyond the snapshot") }
            for _ in 0..<count {
                let index = try reader.zigzag()
                window.buckets.append((index, try readAggregate(&reader)))
            }
            window.pending = try readEvents(&reader)
            return window
        case 3:
            let state = LifetimeAggregate()
            state.now = try reader.zigzag()
            state.aggregate = try readAggregate(&reader)
            state.pending = try readEvents(&reader)
            return state
        default:
            throw LogDecodeError(message: "unknown feature state kind")
        }
    }

    // MARK: Parts

    static func append(_ event: WindowEvent, to out: inout [UInt8]) {
        out.appendZigzag(event.time)
        out.appendZigzag(event.offset)
        if let value = event.value {
            out.append(1)
            EventCodec.appendValue(value, to: &out)
        } else {
            out.append(0)
        }
    }

    static func readEvent(_ reader: inout PayloadReader) throws(LogDecodeError) -> WindowEvent {
        let time = try reader.zigzag()
        let offset = try reader.zigzag()
        let value = try reader.byte() == 1 ? try EventCodec.readValue(&reader) : nil
        return WindowEvent(time: time, offset: offset, value: value)
    }

    static func appendEvents(_ events: [WindowEvent], to out: inout [UInt8]) {
        out.appendVarint(UInt64(events.count))
        for event in events { append(event, to: &out) }
    }

    static func readEvents(_ reader: inout PayloadReader) throws(LogDecodeError) -> [WindowEvent] {
        let count = try reader.varint()
        guard count <= UInt64(reader.bytes.count) else { throw LogDecodeError(message: "events beyond the snapshot") }
        return try (0..<Int(count)).map { (_) throws(LogDecodeError) in try readEvent(&reader) }
    }

    static func append(_ aggregate: Aggregate, to out: inout [UInt8]) {
        out.appendZigzag(Int64(aggregate.count))
        out.appendZigzag(Int64(aggregate.numericCount))
        out.appendVarint(UInt64(aggregate.sum.partials.count))
        for partial in aggregate.sum.partials { out.appendInt64LE(Int64(bitPattern: partial.bitPattern)) }
        out.appendVarint(UInt64(aggregate.distinct.count))
        // Sorted, so that equal states give equal snapshot bytes.
        for (value, occurrences) in aggregate.distinct.sorted(by: { $0.key.jsonValue.serialized < $1.key.jsonValue.serialized }) {
            EventCodec.appendValue(value, to: &out)
            out.appendVarint(UInt64(occurrences))
        }
        for extreme in [aggregate.minimum, aggregate.maximum] {
            if let extreme {
                out.append(1)
                EventCodec.appendValue(extreme, to: &out)
            } else {
                out.append(0)
            }
        }
        out.append((aggregate.extremesStale ? 1 : 0) | (aggregate.latestStale ? 2 : 0) | (aggregate.latest != nil ? 4 : 0))
        if let latest = aggregate.latest { append(latest, to: &out) }
        appendEvents(aggregate.recent, to: &out)
    }

    static func readAggregate(_ reader: inout PayloadReader) throws(LogDecodeError) -> Aggregate {
        var aggregate = Aggregate()
        aggregate.count = Int(try reader.zigzag())
        aggregate.numericCount = Int(try reader.zigzag())
        let partials = try reader.varint()
        guard partials <= 4096 else { throw LogDecodeError(message: "too many partial sums") }
        aggregate.sum = ExactSum(
            partials: try (0..<Int(partials)).map { (_) throws(LogDecodeError) in Double(bitPattern: UInt64(bitPattern: try reader.int64LE())) })
        let distinct = try reader.varint()
        guard distinct <= UInt64(reader.bytes.count) else { throw LogDecodeError(message: "distinct values beyond the snapshot") }
        for _ in 0..<distinct {
            let value = try EventCodec.readValue(&reader)
            aggregate.distinct[value] = Int(try reader.varint())
        }
        aggregate.minimum = try reader.byte() == 1 ? try EventCodec.readValue(&reader) : nil
        aggregate.maximum = try reader.byte() == 1 ? try EventCodec.readValue(&reader) : nil
        let flags = try reader.byte()
        aggregate.extremesStale = flags & 1 != 0
        aggregate.latestStale = flags & 2 != 0
        if flags & 4 != 0 { aggregate.latest = try readEvent(&reader) }
        aggregate.recent = try readEvents(&reader)
        return aggregate
    }
}
