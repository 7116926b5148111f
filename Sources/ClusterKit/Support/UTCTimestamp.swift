import Foundation

/// ISO-8601 UTC timestamps for the journal, the log and the JSON events (`2026-11-25T14:00:00Z`, or with
/// milliseconds `2026-11-25T14:00:00.123Z`), made with gmtime_r: a Foundation ISO8601DateFormatter costs an
/// ICU formatter per call, which a 32-host apply paid thousands of times (a quarter of its own CPU time).
public enum UTCTimestamp {
    public static func seconds(_ date: Date) -> String { format(date, milliseconds: false) }

    public static func milliseconds(_ date: Date) -> String { format(date, milliseconds: true) }

    private static func format(_ date: Date, milliseconds: Bool) -> String {
        // Rounded to the nearest second or millisecond (halves to even), as ISO8601DateFormatter does.
        let interval = date.timeIntervalSince1970
        let totalMillis = milliseconds ? Int64((interval * 1000).rounded(.toNearestOrEven)) : Int64(interval.rounded(.toNearestOrEven)) * 1000
        var whole = time_t(totalMillis >= 0 ? totalMillis / 1000 : (totalMillis - 999) / 1000)
        let millis = Int(totalMillis - Int64(whole) * 1000)
        var parts = tm()
        gmtime_r(&whole, &parts)
        let base = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                          Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        return milliseconds ? base + String(format: ".%03dZ", millis) : base + "Z"
    }
}
