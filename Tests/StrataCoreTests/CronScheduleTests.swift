import Foundation
import StrataCore
import Testing

@Suite struct CronScheduleTests {
    static func millis(_ text: String) -> Int64 { EventTime.parse(text)! }

    @Test func nextFiringTimes() throws {
        // 2026-11-29 is a Sunday.
        let now = Self.millis("2026-11-29T10:07:30Z")
        #expect(try CronSchedule("@weekly").next(after: now) == Self.millis("2026-11-30T00:00:00Z"), "Monday midnight")
        #expect(try CronSchedule("@daily").next(after: now) == Self.millis("2026-11-30T00:00:00Z"))
        #expect(try CronSchedule("@hourly").next(after: now) == Self.millis("2026-11-29T11:00:00Z"))
        #expect(try CronSchedule("*/15 * * * *").next(after: now) == Self.millis("2026-11-29T10:15:00Z"))
        #expect(try CronSchedule("0 3 * * 1-5").next(after: now) == Self.millis("2026-11-30T03:00:00Z"))
        #expect(try CronSchedule("30 2 1 * *").next(after: now) == Self.millis("2026-12-01T02:30:00Z"))
        #expect(try CronSchedule("0 0 * * 0").next(after: now) == Self.millis("2026-12-06T00:00:00Z"), "Sunday is 0")
        #expect(try CronSchedule("0 0 * * 7").next(after: now) == Self.millis("2026-12-06T00:00:00Z"), "and 7")
        // Both day fields restricted: either matches (the 1st, or a Friday).
        #expect(try CronSchedule("0 0 1 * 5").next(after: now) == Self.millis("2026-12-01T00:00:00Z"))
        #expect(try CronSchedule("0 0 1 * 5").next(after: Self.millis("2026-12-01T00:00:00Z")) == Self.millis("2026-12-04T00:00:00Z"))
        // Strictly after: a time on the schedule gives the next one.
        #expect(try CronSchedule("0 * * * *").next(after: Self.millis("2026-11-29T10:00:00Z")) == Self.millis("2026-11-29T11:00:00Z"))
    }

    @Test(arguments: ["* * * *", "60 * * * *", "0 24 * * *", "0 0 0 * *", "0 0 * 13 *", "x * * * *", "*/0 * * * *", "5-1 * * * *", "@yearly"])
    func invalidSchedulesAreRefusedWithTheField(text: String) {
        #expect(throws: StrataError.self) { try CronSchedule(text) }
    }

    @Test func configNamesTheKeyOfABadSchedule() {
        do {
            _ = try StrataConfig.parse(yaml: "events: {view: {fields: {item_id: string}}}\nretraining:\n  schedule: \"61 * * * *\"\n", file: "r.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("r.yaml:3: retraining.schedule"), "got \(error.message)")
            #expect(error.message.contains("minute"))
        }
        do {
            _ = try StrataConfig.parse(yaml: "events: {view: {fields: {item_id: string}}}\nretraining:\n  models: [nope]\n", file: "r.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("'nope' is not a model"), "got \(error.message)")
        }
    }
}
