import StrataCore
import Testing

/// `STRATA_*` variables override strata.yaml once, when it is loaded: each lands in its setting,
/// an empty one changes nothing, and a backend a build cannot use is refused naming the variable.
@Suite struct EnvironmentOverrideTests {
    @Test func eachVariableLandsInItsSetting() throws {
        var file = StrataConfig.example()
        file.dataDirectory = "/from/file"
        let config = try file.applyingEnvironment([
            "STRATA_DATA_DIR": "/from/env", "STRATA_HOST": "0.0.0.0", "STRATA_PORT": "9090", "STRATA_METADATA_URL": "postgres://db/strata",
            "STRATA_ONLINE_URL": "redis://cache:6379", "STRATA_LAKE_URL": "s3://bucket/lake", "STRATA_STREAM_URL": "kafka://broker:9092/events",
            "STRATA_MLFLOW_URI": "http://mlflow:5000", "UNRELATED": "x",
        ])
        #expect(config.dataDirectory == "/from/env")
        #expect(config.server.host == "0.0.0.0" && config.server.port == 9090)
        #expect(config.backends.metadata == "postgres://db/strata" && config.backends.online == "redis://cache:6379")
        #expect(config.backends.lake == "s3://bucket/lake" && config.backends.stream == "kafka://broker:9092/events")
        #expect(config.kafka?.topics == ["events"])
        #expect(config.mlflowURI == "http://mlflow:5000")
        #expect(StrataConfig.environmentOverrides.count == 8)
    }

    @Test func unsetOrEmptyVariablesKeepTheFile() throws {
        let file = StrataConfig.example()
        let config = try file.applyingEnvironment(["STRATA_HOST": "", "STRATA_METADATA_URL": ""])
        #expect(config.server.host == file.server.host && config.backends.metadata == file.backends.metadata)
        #expect(config.kafka == nil && config.dataDirectory == file.dataDirectory)
    }

    @Test func unusableValuesAreRefusedNamingTheVariable() {
        for (name, value) in [("STRATA_METADATA_URL", "mysql://db"), ("STRATA_PORT", "http"), ("STRATA_LAKE_URL", "gs://bucket")] {
            #expect {
                _ = try StrataConfig.example().applyingEnvironment([name: value])
            } throws: { error in
                (error as? StrataError)?.field == name && (error as? StrataError)?.message.contains(value) == true
            }
        }
    }

    @Test func theEmbeddedLogTurnsAFilesKafkaSourceOff() throws {
        let withKafka = try StrataConfig.example().applyingEnvironment(["STRATA_STREAM_URL": "kafka://broker:9092/events"])
        #expect(withKafka.kafka != nil)
        let back = try withKafka.applyingEnvironment(["STRATA_STREAM_URL": "log:"])
        #expect(back.kafka == nil && back.backends.stream == "log:")
    }
}
