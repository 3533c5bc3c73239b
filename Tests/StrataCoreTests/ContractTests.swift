import Foundation
import StrataCore
import Testing

@Suite struct ContractTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func builtInExampleIsTheDocumentedFile() throws {
        let file = try String(contentsOf: Self.root.appendingPathComponent("examples/strata.yaml"), encoding: .utf8)
        #expect(file == ExampleConfig.yaml, "Sources/StrataCore/Config/ExampleConfig.swift must embed examples/strata.yaml verbatim")
        let config = StrataConfig.example()
        #expect(config.project == "shop")
        #expect(config.contract.eventTypes.map(\.name) == ["view", "click", "add_to_cart", "purchase", "impression", "rate", "hide"])
        #expect(config.contract.eventType(named: "purchase")?.field(named: "price")?.required == true)
        #expect(config.contract.item.properties.map(\.name).contains("tags"))
    }

    @Test func versionIgnoresFormattingButNotMeaning() throws {
        let a = try StrataConfig.parse(yaml: "events:\n  view:\n    fields:\n      item_id: {type: string, required: true}\n", file: "a.yaml")
        let b = try StrataConfig.parse(
            yaml:
                "# a comment\nserver: {port: 9000}\nevents:\n  view:\n    description: Views.\n    fields:\n      item_id:\n        type: string\n        required: true\n",
            file: "b.yaml")
        let c = try StrataConfig.parse(yaml: "events:\n  view:\n    fields:\n      item_id: {type: string, required: false}\n", file: "c.yaml")
        #expect(a.contract.version == b.contract.version)
        #expect(a.contract.version != c.contract.version)
        #expect(SHA256Hex.isDigest(a.contract.version))
    }

    @Test(arguments: [
        ("events:\n  view:\n    fields:\n      price: {type: money}\n", "x.yaml:4: events.view.fields.price.type: 'money' is not one of"),
        ("events:\n  view:\n    feilds: {}\n", "x.yaml:3: events.view.feilds: unknown key 'feilds'"),
        ("events:\n  view:\n    fields:\n      user_id: string\n", "x.yaml:4: events.view.fields.user_id: 'user_id' is part of every event's envelope"),
        ("events:\n  View:\n    fields: {}\n", "x.yaml:3: events.View: event type name 'View'"),
        ("events:\n  view:\n    fields:\n      n: {type: string, min: 3}\n", "x.yaml:4: events.view.fields.n.min: min applies to int and double fields only"),
        ("server:\n  port: 99999\nevents: {view: {}}\n", "x.yaml:2: server.port: port must be between 0 and 65535"),
        ("events: {}\n", "declare at least one event type"),
        ("server: {port: 1}\n", "the contract needs an 'events' section"),
        ("events: {catalog_x: {}}\n", "reserved for catalog changes"),
        ("events: [a\n", "x.yaml: YAML syntax error"),
    ])
    func errorsNameFileLineKeyAndProblem(yaml: String, expected: String) {
        do {
            _ = try StrataConfig.parse(yaml: yaml, file: "x.yaml")
            Issue.record("expected an error containing \(expected)")
        } catch {
            #expect(error.message.contains(expected), "got: \(error.message)")
        }
    }

    @Test func exportsParseAsTheirFormats() throws {
        let config = StrataConfig.example()
        let avro = try JSONValue.parse(config.contract.export(.avro, project: "shop"))
        #expect(avro.arrayValue?.count == config.contract.eventTypes.count)
        let purchase = avro.arrayValue?.first { $0["name"]?.stringValue == "purchase" }
        #expect(purchase?["namespace"]?.stringValue == "strata.shop.events")
        let price = purchase?["fields"]?.arrayValue?.first { $0["name"]?.stringValue == "price" }
        #expect(price?["type"]?.stringValue == "double")
        let schema = try JSONValue.parse(config.contract.export(.jsonSchema, project: "shop"))
        #expect(schema["oneOf"]?.arrayValue?.count == config.contract.eventTypes.count)
        let proto = config.contract.export(.proto, project: "shop")
        #expect(proto.contains("message AddToCart {"))
        #expect(proto.contains("syntax = \"proto3\";"))
    }

    @Test func fingerprintsAreStableAndSpread() {
        #expect(Fingerprint128("e-1") == Fingerprint128("e-1"))
        let many = Set((0..<100_000).map { Fingerprint128("event-\($0)") })
        #expect(many.count == 100_000)
    }
}

@Suite struct TrainingConfigTests {
    @Test func exampleDeclaresWeightsNegativesAndModels() {
        let training = StrataConfig.example().training
        #expect(training.interactions.weights["purchase"] == 8)
        #expect(training.interactions.negativeTypes == ["hide"])
        #expect(training.interactions.weight(type: "hide", timestamp: 0, reference: 0) == -1)
        #expect(training.interactions.weight(type: "impression", timestamp: 0, reference: 0) == nil)
        #expect(training.models.map(\.name) == ["popular", "als-main", "knn", "bpr"])
        #expect(training.models[1].algorithm == .als && training.models[1]["alpha"] == 1)
    }

    @Test func halfLifeHalvesWeights() throws {
        let config = try StrataConfig.parse(
            yaml: "events: {view: {fields: {item_id: string}}}\ninteractions: {weights: {view: 4}, half_life: 1d}\n", file: "t.yaml")
        let weight = config.training.interactions.weight(type: "view", timestamp: 0, reference: 2 * 86_400_000)
        #expect(abs((weight ?? 0) - 1) < 1e-12)
    }

    @Test(arguments: [
        ("models: {m: {algorithm: als, factor: 3}}", "als has no parameter 'factor'"),
        ("models: {m: {factors: 3}}", "needs an algorithm"),
        ("models: {m: {algorithm: svd}}", "'svd' is not one of"),
        ("interactions: {weights: {fly: 1}}", "'fly' is not a declared event type"),
        ("interactions: {weights: {view: -1}}", "weights are positive"),
    ])
    func badTrainingSectionsAreClearErrors(section: String, expected: String) {
        do {
            _ = try StrataConfig.parse(yaml: "events: {view: {fields: {item_id: string}}}\n" + section + "\n", file: "t.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains(expected), "got: \(error.message)")
        }
    }
}
