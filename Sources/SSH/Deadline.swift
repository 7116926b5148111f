import Foundation

/// A point on the monotonic clock (wall-clock changes must not stretch or cut timeouts).
struct Deadline {
    let nanoseconds: UInt64
    let seconds: Double

    static func after(_ seconds: Double) -> Deadline {
        Deadline(nanoseconds: now() &+ UInt64(max(0, seconds) * 1e9), seconds: seconds)
    }

    var expired: Bool { Deadline.now() >= nanoseconds }

    /// Milliseconds left, at least 0, for poll().
    var remainingMilliseconds: Int32 {
        let current = Deadline.now()
        guard current < nanoseconds else { return 0 }
        return Int32(min(UInt64(Int32.max), (nanoseconds - current + 999_999) / 1_000_000))
    }

    private static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}

/// "10s", "0.5s": how long a timeout was, for messages.
func describeSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
}
