import Foundation

/// Durations written in configuration as `500ms`, `30s`, `5m`, `1h`, `7d` or `2w`.
public enum DurationText {
    /// Milliseconds of a duration text, or nil when it is not one.
    public static func parseMillis(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let amount = Int64(digits) else { return nil }
        let unit = trimmed.dropFirst(digits.count)
        let scale: Int64
        switch unit {
        case "ms": scale = 1
        case "s": scale = 1000
        case "m": scale = 60_000
        case "h": scale = 3_600_000
        case "d": scale = 86_400_000
        case "w": scale = 604_800_000
        default: return nil
        }
        let (product, overflow) = amount.multipliedReportingOverflow(by: scale)
        return overflow ? nil : product
    }

    /// The shortest exact text for a number of milliseconds (`90000` → `90s`).
    public static func format(millis: Int64) -> String {
        for (unit, scale) in [("w", Int64(604_800_000)), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)]
        where millis != 0 && millis % scale == 0 {
            return "\(millis / scale)\(unit)"
        }
        return "\(millis)ms"
    }
}
