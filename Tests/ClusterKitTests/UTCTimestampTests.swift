import ClusterKit
import Foundation
import Testing

/// `UTCTimestamp` replaced Foundation's ISO8601DateFormatter in the journal, the log and the JSON events: it must
/// write what that formatter wrote.
struct UTCTimestampTests {
    @Test(arguments: [0, 1_795_000_000, 1_795_000_000.5, 1_795_000_000.0004, 1_795_000_000.9999, 951_782_400.123, 4_102_444_799.25])
    func matchesISO8601DateFormatter(seconds: Double) {
        let date = Date(timeIntervalSince1970: seconds)
        let plain = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        #expect(UTCTimestamp.seconds(date) == plain.string(from: date))
        #expect(UTCTimestamp.milliseconds(date) == fractional.string(from: date))
        #expect(UTCTimestamp.milliseconds(date).count == 24 && UTCTimestamp.milliseconds(date).hasSuffix("Z"))
    }

    @Test func roundedToTheNearestUnitAsFoundationDoes() {
        #expect(UTCTimestamp.milliseconds(Date(timeIntervalSince1970: 1_795_000_000.5)) == "2026-11-18T11:06:40.500Z")
        #expect(UTCTimestamp.milliseconds(Date(timeIntervalSince1970: 1_795_000_000.9999)) == "2026-11-18T11:06:41.000Z")
        #expect(UTCTimestamp.seconds(Date(timeIntervalSince1970: 1_795_000_000.4)) == "2026-11-18T11:06:40Z")
    }
}
