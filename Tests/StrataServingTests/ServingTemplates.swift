import Foundation
import StrataLake
import StrataRegistry
import StrataTesting
import Synchronization

/// A built project: its closed folder, the history it was given, its trained versions, and
/// the time (on the clock it was built with) when it was done.
struct ServingProject: Sendable {
    let directory: TemporaryDirectory
    let history: [IncomingEvent]
    let versions: [ModelVersion]
    let builtAt: Int64

    /// Copies the project's files into `target` (an existing, empty folder).
    func copy(into target: TemporaryDirectory) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            try FileManager.default.copyItem(atPath: directory.file(name), toPath: target.file(name))
        }
    }
}

/// Each distinct project the serving suites need, built once per test process; fixtures copy it.
/// Concurrent fixtures wanting the same project wait for the one build. The folders are removed
/// when the process exits.
actor ServingTemplates {
    static let shared = ServingTemplates()
    private static let folders = Mutex<[TemporaryDirectory]>([])
    private var builds: [String: Task<ServingProject, any Error>] = [:]

    func project(_ key: String, build: @escaping @Sendable () async throws -> ServingProject) async throws -> ServingProject {
        if let running = builds[key] { return try await running.value }
        if builds.isEmpty { atexit { ServingTemplates.folders.withLock { $0.forEach { $0.remove() } } } }
        let task = Task { () throws -> ServingProject in
            let project = try await build()
            Self.folders.withLock { $0.append(project.directory) }
            return project
        }
        builds[key] = task
        return try await task.value
    }
}

/// A description of `value` that is equal for equal values: dictionaries and sets are rendered
/// sorted (their `description` follows a per-instance hash order).
func stableDescription(_ value: Any) -> String {
    let mirror = Mirror(reflecting: value)
    let children = mirror.children.map { child in "\(child.label ?? ""):\(stableDescription(child.value))" }
    switch mirror.displayStyle {
    case .dictionary, .set: return "{\(children.sorted().joined(separator: ","))}"
    case nil,
        .enum where children.isEmpty:
        return String(describing: value)
    default: return "\(mirror.subjectType)(\(children.joined(separator: ",")))"
    }
}
