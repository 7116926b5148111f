import ClusterKit
import Foundation

/// Progress as plain lines, one per finished step (or failure), each with its UTC time: for logs, CI and pipes,
/// where a redrawn line would be noise. `verbose` adds a line when a step or host starts (the -v log, in
/// which the commands between them then make sense).
enum ProgressLines {
    static func line(for event: ApplyEvent, at date: Date, verbose: Bool) -> String? {
        let prefix = "\(timestamp(date)) \(event.host):"
        switch event {
        case .hostStarted:
            return verbose ? "\(prefix) started" : nil
        case .stepStarted(_, let step):
            return verbose ? "\(prefix) \(step): started" : nil
        case .stepFinished(_, let step, let seconds):
            return "\(prefix) \(step): done in \(duration(seconds))"
        case .stepFailed(_, let step, let message):
            return "\(prefix) \(step): failed: \(message)"
        case .hostFinished(let outcome):
            // The caller leaves out the message of a host whose failed step already said it (RunOutput).
            let changes = outcome.applied > 0 ? " (\(outcome.applied) change\(outcome.applied == 1 ? "" : "s"))" : ""
            let why = outcome.message.map { ": \($0)" } ?? ""
            let notRun = outcome.notRun.isEmpty ? "" : "; did not run: " + outcome.notRun.joined(separator: ", ")
            return "\(prefix) \(outcome.status.rawValue)\(changes)\(why)\(notRun)"
        }
    }

    /// A remote command for the -v log. Its stdin (facts scripts, sudo's password line) is never shown, only
    /// its size; continuation lines of a multi-line script are indented under it.
    static func command(_ command: String, host: String, stdinBytes: Int, at date: Date) -> String {
        let input = stdinBytes > 0 ? "   [stdin: \(stdinBytes) bytes, not shown]" : ""
        let body = command.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n      ")
        return "\(timestamp(date)) \(host): $ \(body)\(input)"
    }

    static func timestamp(_ date: Date) -> String { UTCTimestamp.seconds(date) }

    /// `0.4s`, `12.3s`, `2m05s`.
    static func duration(_ seconds: Double) -> String {
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let whole = Int(seconds.rounded())
        return String(format: "%dm%02ds", whole / 60, whole % 60)
    }
}
