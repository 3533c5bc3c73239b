import StrataCore
import StrataLake
import Testing

/// What every event source does (the embedded path that `POST /v1/events` takes, the Kafka
/// source), checked the same way over each: every valid event is stored exactly once, each
/// user's in the order sent; an invalid event is not stored and lands in the dead letters once,
/// with the reason code the HTTP API documents; an event id delivered again is stored once;
/// and after a restart nothing already stored (or dead-lettered) is stored again while new
/// deliveries go on.
///
/// There is no protocol for a source, so a test hands in closures: `deliver` sends raw event
/// payloads (one JSON event each, on one line) through the source and returns once the source
/// has stored or dead-lettered every one of them; `restart` replaces the source with a new
/// instance on the same data folder (and, for a broker, the same consumer group); `lake` is the
/// lake the source writes to now.
public enum EventSourceConformance {
    /// The invalid payloads the suite sends, each with the dead-letter reason the HTTP API
    /// documents for it.
    public enum Invalid: String, CaseIterable, Sendable {
        /// A `type` the contract does not declare.
        case unknownType
        /// A `view` without its required `item_id`.
        case missingField
        /// A JSON object cut off before its end.
        case badJSON

        /// The reason code the dead letter carries.
        public var code: String {
            switch self {
            case .unknownType: "unknown_event_type"
            case .missingField: "missing_field"
            case .badJSON: "malformed_json"
            }
        }

        /// The field the dead letter names.
        public var field: String? {
            switch self {
            case .unknownType: "type"
            case .missingField: "item_id"
            case .badJSON: nil
            }
        }
    }

    /// Runs the suite: three deliveries before a restart and one after it, of ~100 events.
    public static func check(
        deliver: ([[UInt8]]) async throws -> Void, restart: () async throws -> Void, lake: () async throws -> Lake
    ) async throws {
        var plan = Plan(now: SystemClock().nowMillis())

        // Six users' events interleaved, one event sent twice in the same delivery, and each
        // kind of invalid payload.
        let first = plan.valid(40)
        let firstInvalid = plan.invalid(round: 1)
        var payloads = first.map(\.payload)
        payloads.insert(first[3].payload, at: 9)
        for (position, invalid) in zip([5, 18, 31], firstInvalid) { payloads.insert(invalid.payload, at: position) }
        try await deliver(payloads)
        try await expect(lake(), holds: plan, "after the first delivery")

        // A retry of ids already stored, mixed with new events.
        let second = plan.valid(30)
        try await deliver(interleave(second.map(\.payload), first.prefix(12).map(\.payload)))
        try await expect(lake(), holds: plan, "after a delivery that repeats stored ids")

        // Small deliveries one after another.
        for _ in 0..<3 { try await deliver(plan.valid(4).map(\.payload)) }
        try await expect(lake(), holds: plan, "after three small deliveries")

        try await restart()
        try await expect(lake(), holds: plan, "right after the restart")

        // New events (and invalid ones) go on being stored; ids from before the restart are
        // still recognised as stored.
        let third = plan.valid(30)
        let thirdInvalid = plan.invalid(round: 2)
        payloads = interleave(third.map(\.payload), second.suffix(6).map(\.payload) + first.suffix(6).map(\.payload))
        for (position, invalid) in zip([2, 20, 40], thirdInvalid) { payloads.insert(invalid.payload, at: position) }
        try await deliver(payloads)
        try await expect(lake(), holds: plan, "after a delivery following the restart")
    }

    /// Checks that `lake` holds exactly the valid events of `plan`, each once and in each user's
    /// order, and exactly its invalid payloads as dead letters, each once with its reason.
    static func expect(_ lake: Lake, holds plan: Plan, _ stage: String) throws {
        var stored: [Event] = []
        try lake.events.replay(from: 0) { _, event in stored.append(event) }
        var times: [String: Int] = [:]
        for event in stored { times[event.eventID ?? "(no id)", default: 0] += 1 }
        let sentIDs = Set(plan.sent.map(\.id))
        let twice = times.filter { $0.value > 1 }.keys.sorted()
        let missing = plan.sent.map(\.id).filter { times[$0] == nil }
        let unexpected = times.keys.filter { !sentIDs.contains($0) }.sorted()
        #expect(twice.isEmpty, "\(stage): stored more than once: \(twice)")
        #expect(missing.isEmpty, "\(stage): never stored: \(missing)")
        #expect(unexpected.isEmpty, "\(stage): stored but never sent as a valid event: \(unexpected)")
        #expect(stored.count == plan.sent.count, "\(stage): \(stored.count) events stored for \(plan.sent.count) valid ones sent")

        // Each event as it was sent.
        var byID: [String: Event] = [:]
        for event in stored { byID[event.eventID ?? ""] = byID[event.eventID ?? ""] ?? event }
        for sent in plan.sent {
            guard let event = byID[sent.id] else { continue }
            #expect(
                event.type == sent.type && event.userID == sent.user && event.timestamp == sent.timestamp && event.itemID == sent.item
                    && event[field: sent.detail.name] == sent.detail.value,
                "\(stage): \(sent.id) was stored as \(event)")
        }

        // Each user's events in the order they were first sent.
        var storedOrder: [String: [String]] = [:]
        for event in stored { storedOrder[event.userID ?? "", default: []].append(event.eventID ?? "") }
        var sentOrder: [String: [String]] = [:]
        for sent in plan.sent { sentOrder[sent.user, default: []].append(sent.id) }
        for (user, ids) in sentOrder.sorted(by: { $0.key < $1.key }) {
            #expect(storedOrder[user] == ids, "\(stage): user \(user)'s events were stored in another order than sent")
        }

        // The invalid payloads, each once in the dead letters with its reason.
        let letters = try lake.deadLetters.list(from: 0, limit: 1000)
        #expect(letters.count == plan.invalidSent.count, "\(stage): \(letters.count) dead letters for \(plan.invalidSent.count) invalid payloads sent")
        for invalid in plan.invalidSent {
            let matching = letters.filter { $0.raw.contains(invalid.marker) }
            #expect(matching.count == 1, "\(stage): \(matching.count) dead letters hold the \(invalid.kind) payload \(invalid.marker)")
            guard let letter = matching.first else { continue }
            #expect(
                letter.rejection.code == invalid.kind.code,
                "\(stage): the \(invalid.kind) payload was dead-lettered as '\(letter.rejection.code)' where the HTTP API says '\(invalid.kind.code)'")
            #expect(letter.rejection.field == invalid.kind.field, "\(stage): the \(invalid.kind) dead letter names field \(letter.rejection.field ?? "none")")
            #expect(!letter.rejection.message.isEmpty, "\(stage): the \(invalid.kind) dead letter says nothing")
            #expect(!letter.source.isEmpty, "\(stage): the \(invalid.kind) dead letter names no source")
            #expect(sameContent(letter.raw, invalid.payload), "\(stage): the \(invalid.kind) dead letter keeps \(letter.raw), not what was sent")
        }
    }

    /// Whether a dead letter's `raw` text is the payload sent: the same JSON value (a source may
    /// re-serialise it), or the same text when the payload is not JSON.
    static func sameContent(_ raw: String, _ payload: [UInt8]) -> Bool {
        guard let sent = try? JSONValue.parse(bytes: payload) else { return raw == String(decoding: payload, as: UTF8.self) }
        return (try? JSONValue.parse(raw)) == sent
    }

    /// `payloads` with `others` spread evenly among them.
    static func interleave(_ payloads: [[UInt8]], _ others: [[UInt8]]) -> [[UInt8]] {
        guard !others.isEmpty else { return payloads }
        var result: [[UInt8]] = []
        let step = max(1, payloads.count / others.count)
        var pending = others[...]
        for (index, payload) in payloads.enumerated() {
            result.append(payload)
            if index % step == step - 1, let next = pending.popFirst() { result.append(next) }
        }
        return result + pending
    }

    /// What the suite has sent so far.
    struct Plan {
        /// A valid event: its id, envelope, item and one field of its type.
        struct Sent {
            let id: String
            let type: String
            let user: String
            let timestamp: Int64
            let item: String
            let detail: (name: String, value: FieldValue)
            let payload: [UInt8]
        }

        /// An invalid payload, found among the dead letters by `marker` (its event id).
        struct InvalidSent {
            let kind: Invalid
            let marker: String
            let payload: [UInt8]
        }

        let now: Int64
        private(set) var sent: [Sent] = []
        private(set) var invalidSent: [InvalidSent] = []

        init(now: Int64) {
            self.now = now
        }

        /// `count` new valid events of six users, views, clicks and purchases in turn, at times
        /// within the last ten minutes in no particular order (the order checked is the order sent).
        mutating func valid(_ count: Int) -> [Sent] {
            let events = (sent.count..<sent.count + count).map { n -> Sent in
                let id = "e\(n)"
                let user = "u\(n * 5 % 6)"
                let timestamp = now - Int64(n * 7919 % 600_000)
                let item = "i\(n % 17)"
                let envelope = #""event_id":"\#(id)","user_id":"\#(user)","timestamp":\#(timestamp),"item_id":"\#(item)""#
                switch n % 3 {
                case 0:
                    return Sent(
                        id: id, type: "view", user: user, timestamp: timestamp, item: item, detail: ("page", .string("home")),
                        payload: Array(#"{"type":"view",\#(envelope),"page":"home"}"#.utf8))
                case 1:
                    return Sent(
                        id: id, type: "click", user: user, timestamp: timestamp, item: item, detail: ("position", .int(Int64(n % 10))),
                        payload: Array(#"{"type":"click",\#(envelope),"position":\#(n % 10)}"#.utf8))
                default:
                    return Sent(
                        id: id, type: "purchase", user: user, timestamp: timestamp, item: item, detail: ("order_id", .string("o\(n)")),
                        payload: Array(#"{"type":"purchase",\#(envelope),"order_id":"o\#(n)","price":19.5,"quantity":2}"#.utf8))
                }
            }
            sent += events
            return events
        }

        /// One payload of each invalid kind, with ids unique to `round`.
        mutating func invalid(round: Int) -> [InvalidSent] {
            let payloads = Invalid.allCases.map { kind -> InvalidSent in
                let marker = "bad-\(kind.rawValue)-\(round)"
                let text =
                    switch kind {
                    case .unknownType: #"{"type":"teleport","event_id":"\#(marker)","user_id":"u1","timestamp":\#(now),"item_id":"i1"}"#
                    case .missingField: #"{"type":"view","event_id":"\#(marker)","user_id":"u2","timestamp":\#(now)}"#
                    case .badJSON: #"{"type":"view","event_id":"\#(marker)","user_id":"u3","timestamp":\#(now),"item_id":"#
                    }
                return InvalidSent(kind: kind, marker: marker, payload: Array(text.utf8))
            }
            invalidSent += payloads
            return payloads
        }
    }
}
