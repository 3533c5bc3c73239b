import StrataCore
import Testing

@Suite struct EventTimeTests {
    @Test func parsesRFC3339() {
        #expect(EventTime.parse("1970-01-01T00:00:00Z") == 0)
        #expect(EventTime.parse("2026-11-29T12:00:00Z") == 1_795_953_600_000)
        #expect(EventTime.parse("2026-11-29T12:00:00.123456Z") == 1_795_953_600_123)
        #expect(EventTime.parse("2026-11-29T13:30:00+01:30") == 1_795_953_600_000)
        #expect(EventTime.parse("2026-11-29 12:00:00z") == 1_795_953_600_000)
        #expect(EventTime.parse("2024-02-29T00:00:00Z") != nil)
    }

    @Test(arguments: [
        "2026-11-29", "2026-11-29T12:00:00", "2026-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "2026-11-29T24:00:00Z", "2026-11-29T12:00:00+0100", "yesterday",
    ])
    func rejectsWhatIsNotATime(text: String) {
        #expect(EventTime.parse(text) == nil)
    }

    @Test func formatAndParseRoundTrip() {
        var rng = SplitMix64(seed: 3)
        for _ in 0..<2000 {
            let millis = Int64(rng.nextInt(below: 7_258_118_400_000))
            #expect(EventTime.parse(EventTime.format(millis: millis)) == millis)
        }
        #expect(EventTime.format(millis: -1) == "1969-12-31T23:59:59.999Z")
        #expect(EventTime.day(millis: 1_795_953_600_000) == "2026-11-29")
    }

    @Test func durations() {
        #expect(DurationText.parseMillis("30d") == 2_592_000_000)
        #expect(DurationText.parseMillis("500ms") == 500)
        #expect(DurationText.parseMillis("5 m") == nil)
        #expect(DurationText.format(millis: 86_400_000) == "1d")
    }
}
