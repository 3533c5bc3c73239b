import Foundation
import Logging
import StrataCore
import Synchronization

/// Structured logging: JSON lines for machines, plain lines for people.
enum LoggingSetup {
    private static let done = Mutex(false)

    static func bootstrap(format: String?) {
        let first = done.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        let useJSON = format.map { $0 == "json" } ?? (isatty(STDERR_FILENO) == 0)
        let level = ProcessInfo.processInfo.environment["STRATA_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = useJSON ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// One JSON object per line on standard error: time, level, message, label and metadata.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var object: [String: JSONValue] = [
            "ts": .string(EventTime.format(millis: SystemClock().nowMillis())), "level": .string(event.level.rawValue),
            "msg": .string(event.message.description), "logger": .string(label),
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new }) { object[key] = .string("\(value)") }
        FileHandle.standardError.write(Data((JSONValue.object(object).serialized + "\n").utf8))
    }
}
