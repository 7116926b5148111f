import Foundation

/// The host's own record of what clusterctl changed on it: every apply appends to `/var/log/clusterctl.log`
/// one line per change it carried out or that failed, in one exec at the end of the host (with the lock's
/// release), so the journal costs no round trip per change. Hosts with nothing to do get no lines.
///
///     2026-11-25T14:00:03Z run=3f9c2a7d1e0b4c55 by=alice@ops1 ok install memcached
///     2026-11-25T14:00:04Z run=3f9c2a7d1e0b4c55 by=alice@ops1 ok write /etc/sysconfig/memcached
///     2026-11-25T14:00:09Z run=3f9c2a7d1e0b4c55 by=alice@ops1 failed start httpd: exit status 1: …
///
/// Fields are separated by single spaces: time (UTC, when the change finished, by the controller's clock),
/// `run=` the run id (also in the lock), `by=` user@controller, `ok` or `failed`, then the change's step
/// name and, for a failure, `: ` and the message on one line.
public enum RunJournal {
    public static let path = "/var/log/clusterctl.log"

    public struct Entry: Sendable, Equatable {
        public var time: Date
        /// The change's step name (`install memcached`, `write /etc/php.ini`, `start httpd`).
        public var what: String
        public var ok: Bool
        public var message: String?

        public init(time: Date = Date(), what: String, ok: Bool, message: String? = nil) {
            (self.time, self.what, self.ok, self.message) = (time, what, ok, message)
        }
    }

    public static func line(_ entry: Entry, run: RunIdentity) -> String {
        var line = "\(timestamp(entry.time)) run=\(run.runID) by=\(run.who) \(entry.ok ? "ok" : "failed") \(oneLine(entry.what))"
        if let message = entry.message { line += ": " + oneLine(message) }
        return line
    }

    /// Appends already-quoted shell words, one line each; the log is created 0640 (messages quote command
    /// output, which is not for every local user).
    static func appendCommand(quotedLines: [String]) -> String {
        "( umask 027; printf '%s\\n' \(quotedLines.joined(separator: " ")) >> \(ShellQuote.quote(path)) )"
    }

    static func appendCommand(_ lines: [String]) -> String {
        appendCommand(quotedLines: lines.map(ShellQuote.quote))
    }

    public static func timestamp(_ date: Date) -> String { UTCTimestamp.seconds(date) }

    /// Newlines become ` / ` and other control characters spaces: one change, one line.
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " / ")
            .map { $0.isASCII && ($0.asciiValue! < 32 || $0.asciiValue! == 127) ? " " : String($0) }.joined()
    }
}
