import StrataCore

/// The project's events in offset order, as every consumer reads them (the catalog, the
/// feature store, serving activity): the lake's committed files for the offsets the log no
/// longer holds, then the log, with forgotten users' events left out. The one replay loop;
/// consumers keep their own position and apply what it hands them.
public struct EventStream: Sendable {
    let log: SegmentedLog
    let directory: DataDirectory
    let forgets: ForgetList

    init(log: SegmentedLog, directory: DataDirectory, forgets: ForgetList) {
        self.log = log
        self.directory = directory
        self.forgets = forgets
    }

    /// The first offset the log still holds (the lake holds what came before).
    public var logStart: Int64 { log.startOffset }

    /// The offset after the last durable event.
    public var end: Int64 { log.endOffset }

    /// Hands `apply` every event from `offset` up to `end` (nil: everything durable), in offset
    /// order: from the lake's committed files below the log's start, then from the log. With
    /// `types`, other event types are skipped before they are decoded. Returns the offset the
    /// next replay starts from.
    @discardableResult
    public func replay(from offset: Int64, to end: Int64? = nil, types: Set<String>? = nil, _ apply: (Int64, Event) throws -> Void) throws -> Int64 {
        var forgotten = forgets.makeFilter()
        let logStart = log.startOffset
        var position = offset
        if offset < logStart {
            let stop = min(logStart, end ?? logStart)
            for (eventOffset, event) in try lakeEvents(from: offset, before: stop, types: types) {
                if forgotten.excludes(userID: event.userID, offset: eventOffset) { continue }
                try apply(eventOffset, event)
            }
            position = stop
            if let end, end <= logStart { return position }
        }
        let typeBytes = types.map { $0.map { Array($0.utf8) } }
        return try log.scan(from: max(position, logStart), to: end) { eventOffset, payload in
            if let typeBytes {
                let type = try EventCodec.envelope(payload).type
                guard typeBytes.contains(where: { $0.elementsEqual(type) }) else { return true }
            }
            let event = try EventCodec.decode(payload)
            if forgotten.excludes(userID: event.userID, offset: eventOffset) { return true }
            try apply(eventOffset, event)
            return true
        }
    }

    /// Returns once an event at `offset` or later is durable (or the log closes).
    public func waitForEvents(from offset: Int64) async {
        await log.waitForRecords(from: offset)
    }

    /// The users forgotten after `offset` (their SHA-256): a checkpoint taken before that still
    /// holds their state, which the consumer drops on restore.
    public func usersForgotten(after offset: Int64) -> Set<String> {
        Set(forgets.all.filter { $0.throughOffset > offset }.map(\.userHash))
    }

    /// The lake files compaction has committed (read from its state file, so callers need not
    /// wait for the compactor).
    public func committedFiles() throws -> [LakeFile] {
        try LakeState.load(path: "\(directory.lakeState)/state.json").files
    }

    /// The events in `[from, before)` that only the lake's committed files hold, in offset
    /// order (every file of a type in `types`, or of every type).
    func lakeEvents(from: Int64, before end: Int64, types: Set<String>?) throws -> [(offset: Int64, event: Event)] {
        var events: [(offset: Int64, event: Event)] = []
        for file in try committedFiles() where file.firstOffset < end && file.lastOffset >= from && types.map({ $0.contains(file.type) }) ?? true {
            for (offset, event) in try LakeFileReader.readWithOffsets(path: "\(directory.lake)/\(file.path)", type: file.type)
            where offset >= from && offset < end {
                events.append((offset, event))
            }
        }
        events.sort { $0.offset < $1.offset }
        return events
    }
}
