import StrataCore

extension FuzzTarget {
    /// `strata.yaml` loading: YAML parsing (Yams), the configuration sections and the event
    /// contract and feature definitions in it. The input is the file's text.
    static let contractLoader = FuzzTarget(name: "contract", summary: "strata.yaml text through StrataConfig.parse (contract, features, settings)") { input in
        let text = String(decoding: input, as: UTF8.self)
        let config: StrataConfig
        do throws(StrataError) {
            config = try StrataConfig.parse(yaml: text, file: "fuzz.yaml")
        } catch {
            require(!error.code.isEmpty, "a refused file has no error code")
            return
        }
        // The contract's version is the hash of its canonical JSON, which is also what is stored
        // in the contract history and read back: it must parse to the same value.
        let canonical = config.contract.canonicalJSON
        let reread = try? JSONValue.parse(bytes: canonical.serializedBytes)
        require(reread == canonical, "the canonical JSON does not read back: \(canonical.serialized)")
    }
}
