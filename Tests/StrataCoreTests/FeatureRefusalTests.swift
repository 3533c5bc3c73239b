import StrataCore
import StrataTesting
import Testing

/// The one refusal every online store gives for a feature name it cannot answer.
@Suite struct FeatureRefusalTests {
    let definitions = Fixtures.config.contract.features

    @Test func aKnownFeatureOfTheEntityIsAnswered() throws {
        for definition in definitions {
            #expect(FeatureDefinition.refusal(for: definition.name, entity: definition.entity, among: definitions) == nil)
        }
    }

    @Test func anUnknownNameIsNotFoundAndNamesTheFeatures() throws {
        let refusal = try #require(FeatureDefinition.refusal(for: "no_such_feature", entity: .user, among: definitions))
        #expect(refusal.kind == .notFound && refusal.code == "unknown_feature")
        #expect(refusal.message.contains("no_such_feature"))
        #expect(definitions.allSatisfy { refusal.message.contains($0.name) }, "the message lists what exists")
    }

    @Test func anotherEntitysFeatureIsInvalidInput() throws {
        let item = try #require(definitions.first { $0.entity == .item })
        let refusal = try #require(FeatureDefinition.refusal(for: item.name, entity: .user, among: definitions))
        #expect(refusal.kind == .invalidInput && refusal.code == "wrong_entity" && refusal.field == "features")
        #expect(refusal.message.contains("items, not users"))
    }

    @Test func noDefinitionsRefuseEveryName() throws {
        let refusal = try #require(FeatureDefinition.refusal(for: "anything", entity: .item, among: []))
        #expect(refusal.code == "unknown_feature")
    }
}
