import Foundation

/// A cron schedule in UTC: `minute hour day-of-month month day-of-week`, each field `*`, a
/// number, a list `1,15`, a range `1-5`, or a step `*/10` / `0-30/5`; or `@hourly`, `@daily`,
/// `@weekly` (Monday 00:00), `@monthly`. Day-of-week: 0 or 7 is Sunday. As in cron, when both
/// day fields are restricted, either may match.
public struct CronSchedule: Sendable, Equatable {
    public let text: String
    let minutes: Set<Int>
    let hours: Set<Int>
    let days: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>
    let daysRestricted: Bool
    let weekdaysRestricted: Bool

    public init(_ text: String) throws(StrataError) {
        let aliases = ["@hourly": "0 * * * *", "@daily": "0 0 * * *", "@weekly": "0 0 * * 1", "@monthly": "0 0 1 * *"]
        let expanded = aliases[text.trimmingCharacters(in: .whitespaces)] ?? text
        let fields = expanded.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count == 5 else {
            throw StrataError.invalid(
                "invalid_schedule", "'\(text)' is not a cron schedule: five fields (minute hour day month weekday) or @hourly/@daily/@weekly/@monthly")
        }
        self.text = text
        minutes = try Self.field(fields[0], 0...59, "minute", text)
        hours = try Self.field(fields[1], 0...23, "hour", text)
        days = try Self.field(fields[2], 1...31, "day of month", text)
        months = try Self.field(fields[3], 1...12, "month", text)
        weekdays = Set(try Self.field(fields[4], 0...7, "day of week", text).map { $0 % 7 })
        daysRestricted = fields[2] != "*"
        weekdaysRestricted = fields[4] != "*"
    }

    static func field(_ text: String, _ range: ClosedRange<Int>, _ name: String, _ whole: String) throws(StrataError) -> Set<Int> {
        var values = Set<Int>()
        for part in text.split(separator: ",") {
            let pieces = part.split(separator: "/", maxSplits: 1)
            let step = pieces.count == 2 ? Int(pieces[1]) : 1
            var low = range.lowerBound
            var high = range.upperBound
            if pieces[0] != "*" {
                let bounds = pieces[0].split(separator: "-", maxSplits: 1).map { Int($0) }
                guard let first = bounds.first ?? nil, bounds.allSatisfy({ $0 != nil }) else {
                    throw StrataError.invalid("invalid_schedule", "'\(whole)': the \(name) field '\(text)' is not a number, range, list or step")
                }
                low = first
                high = bounds.count == 2 ? bounds[1]! : (pieces.count == 2 ? range.upperBound : first)
            }
            guard let step, step > 0, range.contains(low), range.contains(high), low <= high else {
                throw StrataError.invalid("invalid_schedule", "'\(whole)': the \(name) field '\(text)' is outside \(range.lowerBound)–\(range.upperBound)")
            }
            values.formUnion(stride(from: low, through: high, by: step))
        }
        return values
    }

    public func matches(_ millis: Int64) -> Bool {
        let date = Date(timeIntervalSince1970: Double(millis) / 1000)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.minute, .hour, .day, .month, .weekday], from: date)
        guard minutes.contains(c.minute!), hours.contains(c.hour!), months.contains(c.month!) else { return false }
        let dayMatches = days.contains(c.day!)
        let weekdayMatches = weekdays.contains(c.weekday! - 1)
        if daysRestricted && weekdaysRestricted { return dayMatches || weekdayMatches }
        return dayMatches && weekdayMatches
    }

    /// The first whole minute strictly after `millis` that the schedule names (within ~4 years).
    public func next(after millis: Int64) -> Int64? {
        var minute = (millis / 60_000 + 1) * 60_000
        for _ in 0..<(4 * 366 * 1440) {
            if matches(minute) { return minute }
            minute += 60_000
        }
        return nil
    }
}
