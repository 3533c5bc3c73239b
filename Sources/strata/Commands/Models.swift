import ArgumentParser
import Foundation
import StrataCore
import StrataRegistry
import StrataTraining

/// `strata models ...`: the registry.
struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models", abstract: "The model registry: versions, lineage, approval, promotion, rollback.",
        subcommands: [List.self, Show.self, Lineage.self, Approve.self, Promote.self, Rollback.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "Every version with its stage and gate result.")
        @OptionGroup var data: DataOptions
        @Argument(help: "Only this model.") var model: String?

        func run() async throws {
            try await withGovernance(data) { governance in
                for version in try await governance.registry.versions(model: model) {
                    print(
                        "\(version.reference.padding(toLength: 16, withPad: " ", startingAt: 0)) \(version.stage.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) run \(version.runID)  \(version.gate?.message ?? "")"
                    )
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "One version as JSON (NAME@VERSION, NAME@production, NAME@previous).")
        @OptionGroup var data: DataOptions
        @Argument var reference: String

        func run() async throws {
            try await withGovernance(data) { governance in
                let version = try await governance.registry.resolve(reference)
                var object = version.json.objectValue!
                object["approvals"] = .array(try await governance.registry.approvals(version).map(\.json))
                object["aliases"] = .object(try await governance.registry.aliases(model: version.model).mapValues(JSONValue.int))
                print(JSONValue.object(object).prettySerialized)
            }
        }
    }

    struct Lineage: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "lineage",
            abstract: "The whole chain: run → data version → contract version → code version → parameters → metrics → artifact → approvals and stage.")
        @OptionGroup var data: DataOptions
        @Argument var reference: String

        func run() async throws {
            try await withGovernance(data) { governance in
                let version = try await governance.registry.resolve(reference)
                let run = try await governance.runs.get(version.runID)
                print("\(version.reference)  stage \(version.stage.rawValue)")
                print("  run               \(run.id)  (\(run.status.rawValue), by \(run.principal) on \(run.host), \(EventTime.format(millis: run.startedAt)))")
                if let original = run.reproduces { print("  reproduces        run \(original)") }
                print("  data version      \(run.dataVersion)")
                print("  contract version  \(run.contractVersion)")
                print("  code version      \(run.codeVersion) (strata \(run.strataVersion))")
                print(
                    "  parameters        \(run.algorithm.rawValue) "
                        + run.parameters.keys.sorted().map { "\($0)=\(run.parameters[$0]!)" }.joined(separator: " "))
                for line in run.inputs.lines { print("  " + line) }
                print("  metrics           " + run.metrics.keys.sorted().map { "\($0)=\(String(format: "%.4f", run.metrics[$0]!))" }.joined(separator: " "))
                print("  artifact          sha256:\(version.artifactHash)")
                print("  gate              \(version.gate?.message ?? "–")")
                for approval in try await governance.registry.approvals(version) {
                    print("  approved          by \(approval.principal) at \(EventTime.format(millis: approval.at)): \(approval.reason)")
                }
                let aliases = try await governance.registry.aliases(model: version.model).filter { $0.value == version.version }.keys.sorted()
                print("  deployments       " + (aliases.isEmpty ? "none" : aliases.joined(separator: ", ")))
            }
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "approve", abstract: "Approve a candidate (needs the approver role; by default not the principal that trained it).")
        @OptionGroup var data: DataOptions
        @Argument var reference: String
        @Option(help: "Why it may go to production.") var reason: String

        func run() async throws {
            try await withGovernance(data) { governance in
                let version = try await governance.registry.approve(reference, reason: reason, by: try governance.principal())
                print("\(version.reference) approved")
            }
        }
    }

    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "promote", abstract: "Make an approved version production (the current one becomes previous).")
        @OptionGroup var data: DataOptions
        @Argument var reference: String

        func run() async throws {
            try await withGovernance(data) { governance in
                let version = try await governance.registry.promote(reference, by: try governance.principal())
                print("\(version.reference) is production")
            }
        }
    }

    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rollback", abstract: "Put the previous production version back.")
        @OptionGroup var data: DataOptions
        @Argument var model: String

        func run() async throws {
            try await withGovernance(data) { governance in
                let version = try await governance.registry.rollback(model: model, by: try governance.principal())
                print("\(version.reference) is production again")
            }
        }
    }
}

/// `strata keys ...`
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "API keys and their roles (admin, ingest, serve, scientist, approver).",
        subcommands: [Create.self, Revoke.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a key; it is printed once.")
        @OptionGroup var data: DataOptions
        @Option(help: "A name for the key (who or what uses it).") var name: String
        @Option(help: "Comma-separated roles.") var roles: String

        func run() async throws {
            try await withGovernance(data) { governance in
                let principal = try governance.principal()
                guard principal.has(.admin) else { throw StrataError(.forbidden, code: "admin_role_required", "creating keys needs the admin role") }
                var parsed = Set<Role>()
                for text in roles.split(separator: ",") {
                    guard let role = Role(rawValue: text.trimmingCharacters(in: .whitespaces)) else {
                        throw StrataError.invalid("unknown_role", "'\(text)' is not a role (\(Role.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    parsed.insert(role)
                }
                let (key, record) = try await governance.keys.create(name: name, roles: parsed, by: principal.label)
                try await governance.audit.append(
                    principal: principal.label, action: "key.create", target: "key:\(record.id)", detail: record.roles.map(\.rawValue).joined(separator: ","))
                print(key)
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a key by id.")
        @OptionGroup var data: DataOptions
        @Argument var id: String

        func run() async throws {
            try await withGovernance(data) { governance in
                let principal = try governance.principal()
                guard principal.has(.admin) else { throw StrataError(.forbidden, code: "admin_role_required", "revoking keys needs the admin role") }
                guard try await governance.keys.revoke(id: id) else { throw StrataError.notFound("key_not_found", "no active key \(id)") }
                try await governance.audit.append(principal: principal.label, action: "key.revoke", target: "key:\(id)")
                print("revoked \(id)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "Keys (never their secrets).")
        @OptionGroup var data: DataOptions

        func run() async throws {
            try await withGovernance(data) { governance in
                for key in try await governance.keys.list() {
                    print(
                        "\(key.id)  \(key.name)  \(key.roles.map(\.rawValue).joined(separator: ","))  created \(EventTime.format(millis: key.createdAt)) by \(key.createdBy)\(key.revokedAt.map { "  revoked \(EventTime.format(millis: $0))" } ?? "")"
                    )
                }
            }
        }
    }
}

/// `strata audit ls|verify`
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "The hash-chained audit log.", subcommands: [List.self, Verify.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "Entries, oldest first, filtered.")
        @OptionGroup var data: DataOptions
        @Option(help: "Only this principal (e.g. key:ab12cd(ci)).") var principal: String?
        @Option(help: "Only this action (e.g. model.approve).") var action: String?
        @Option(help: "From this time (RFC 3339).") var since: String?
        @Option(help: "Before this time (RFC 3339).") var until: String?
        @Option(help: "How many.") var limit = 1000
        @Flag(help: "JSON lines.") var json = false

        func run() async throws {
            try await withGovernance(data) { governance in
                func time(_ text: String?, _ name: String) throws -> Int64? {
                    guard let text else { return nil }
                    guard let millis = EventTime.parse(text) else { throw StrataError.invalid("invalid_time", "--\(name) takes an RFC 3339 time") }
                    return millis
                }
                let entries = try await governance.audit.list(
                    principal: principal, action: action, from: try time(since, "since"), to: try time(until, "until"), limit: limit)
                for entry in entries {
                    if json {
                        print(entry.json.serialized)
                    } else {
                        print(
                            "\(entry.seq)  \(EventTime.format(millis: entry.at))  \(entry.principal)  \(entry.action)  \(entry.target)  \(entry.outcome)  \(entry.detail)"
                        )
                    }
                }
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify", abstract: "Check the hash chain; names the first edited, removed or reordered entry.")
        @OptionGroup var data: DataOptions

        func run() async throws {
            var intact = true
            try await withGovernance(data) { governance in
                let result = try await governance.audit.verify()
                if let problem = result.problem {
                    print("audit log BROKEN at entry \(problem.seq): \(problem.message)")
                    intact = false
                } else {
                    print("audit log intact: \(result.entries) entries")
                }
            }
            if !intact { throw ExitCode(2) }
        }
    }
}
