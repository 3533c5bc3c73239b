import StrataCore

/// A feature definition prepared for the engine: which events it takes and what value of each.
/// A class, so the hot paths pass one reference instead of copying the definition.
public final class CompiledFeature: Sendable {
    public let definition: FeatureDefinition
    /// Position among the engine's features (the slot in an entity's state array).
    public let slot: Int
    let sources: Set<String>
    /// For a ratio: the slots of its numerator and denominator.
    let ratioSlots: (numerator: Int, denominator: Int)?

    init(_ definition: FeatureDefinition, slot: Int, ratioSlots: (numerator: Int, denominator: Int)? = nil) {
        self.definition = definition
        self.slot = slot
        self.sources = Set(definition.sources)
        self.ratioSlots = ratioSlots
    }

    /// Whether the event feeds this feature (its type is a source and every filter holds).
    @inline(__always)
    func accepts(_ event: Event) -> Bool {
        guard sources.contains(event.type) else { return false }
        for filter in definition.filters where !filter.matches(Self.fieldValue(filter.field, of: event)) { return false }
        return true
    }

    /// The aggregated value an event contributes.
    @inline(__always)
    func input(of event: Event) -> FieldValue? {
        definition.field.flatMap { Self.fieldValue($0, of: event) }
    }

    static func fieldValue(_ field: String, of event: Event) -> FieldValue? {
        if field == EnvelopeField.userID { return event.userID.map(FieldValue.string) }
        return event[field: field]
    }

    /// The entity an event is about, for this feature's entity kind.
    static func entityKey(_ entity: FeatureDefinition.Entity, of event: Event) -> String? {
        entity == .user ? event.userID : event.itemID
    }
}
