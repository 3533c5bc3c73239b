import ArgumentParser
import Foundation
import StrataServing

/// `strata bench experiments`: A/A and planted-lift A/B tests simulated with heterogeneous
/// users and checked after every batch, for the impression-level z-test Strata used before and
/// the per-user mixture SPRT it uses now (the figures in the README's A/B section).
struct BenchExperiments: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiments",
        abstract: "False-positive rate under peeking (A/A) and power for planted CTR lifts, old test against new (deterministic for a seed).")

    @Option(help: "Users per arm.") var users = 20_000
    @Option(help: "Looks (a check after every batch of users).") var looks = 20
    @Option(help: "Simulated experiments per row.") var replications = 400
    @Option(help: "Relative CTR lifts to plant (comma-separated).") var lifts = "0.1,0.2"
    @Option(help: "Mean CTR.") var ctr = 0.05
    @Option(help: "Seed.") var seed: UInt64 = 1

    func run() async throws {
        var simulation = ExperimentSimulation()
        simulation.usersPerArm = users
        simulation.looks = looks
        simulation.replications = replications
        simulation.baseCTR = ctr
        simulation.seed = seed
        print(
            "\(replications) simulated experiments per row, \(users) users per arm, checked after each of \(looks) batches; per-user CTR log-normal around \(ctr) (spread \(simulation.ctrSpread)), impressions per user Pareto(shape \(simulation.tailShape), at most \(simulation.maxImpressions)); alpha \(simulation.alpha)"
        )
        print("planted lift   impression-level z-test   per-user mSPRT (always valid)")
        for lift in [0.0] + lifts.split(separator: ",").compactMap({ Double($0) }) {
            let rates = simulation.run(lift: lift)
            let label = lift == 0 ? "none (A/A)" : String(format: "%+.0f%%", lift * 100)
            print(
                String(
                    format: "%-14@ %22.1f%%   %26.1f%%   %@", label as NSString, rates.impressionLevel * 100, rates.sequential * 100,
                    (lift == 0 ? "false positives" : "power") as NSString))
        }
    }
}
