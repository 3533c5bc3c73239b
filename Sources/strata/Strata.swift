import ArgumentParser

/// The `strata` command: every layer of the platform in one binary.
@main
struct Strata: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strata",
        abstract: "Strata: a self-hosted, real-time recommendation platform.",
        discussion: "Start with `strata up --demo`. Every command that touches data takes --data-dir (STRATA_DATA_DIR) and --config (STRATA_CONFIG).",
        version: "strata \(StrataVersionText.full)",
        subcommands: [
            Up.self, Serve.self, Import.self, Generate.self, LakeCommand.self, FeaturesCommand.self, ContractCommand.self, Evaluate.self, Train.self,
            RunsCommand.self, ModelsCommand.self, DeployCommand.self, MonitorCommand.self, KeysCommand.self, AuditCommand.self, Bench.self, Init.self,
        ]
    )
}
