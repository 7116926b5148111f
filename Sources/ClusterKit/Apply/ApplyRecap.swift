import Foundation

/// How one host fared in an apply.
public struct HostOutcome: Sendable, Equatable {
    /// `interrupted`: the apply was stopped (Ctrl-C) before all of this host's steps ran.
    public enum Status: String, Sendable, Codable { case ok, changed, failed, interrupted }

    public var host: String
    public var status: Status
    /// Changes carried out (on a failed host: those before the failure).
    public var applied: Int
    /// Why the host failed; or a note on an interrupted one (a firewall rollback that will restore).
    public var message: String?
    /// The steps that did not run because the apply was interrupted.
    public var notRun: [String]

    public init(host: String, status: Status, applied: Int, message: String?, notRun: [String] = []) {
        self.host = host
        self.status = status
        self.applied = applied
        self.message = message
        self.notRun = notRun
    }

    static func failed(_ host: String, _ message: String) -> HostOutcome {
        HostOutcome(host: host, status: .failed, applied: 0, message: message)
    }
}

/// The end-of-run summary: one line per host, and whether the run failed (exit status 1).
public struct ApplyRecap: Sendable, Equatable {
    public var outcomes: [HostOutcome]

    public init(outcomes: [HostOutcome]) {
        self.outcomes = outcomes
    }

    public var failed: Bool { outcomes.contains { $0.status == .failed } }
    public var interrupted: Bool { outcomes.contains { $0.status == .interrupted } }

    public func outcome(for host: String) -> HostOutcome? { outcomes.first { $0.host == host } }

    public var text: String {
        let width = outcomes.map(\.host.count).max() ?? 0
        var out = "Recap:\n"
        for outcome in outcomes {
            let name = outcome.host.padding(toLength: width, withPad: " ", startingAt: 0)
            var line = "  \(name)  \(outcome.status.rawValue)"
            if outcome.applied > 0 { line += " (\(outcome.applied) change\(outcome.applied == 1 ? "" : "s"))" }
            if let message = outcome.message { line += ": \(message)" }
            if !outcome.notRun.isEmpty { line += (outcome.message == nil ? ": " : "; ") + "did not run: " + outcome.notRun.joined(separator: ", ") }
            out += line + "\n"
        }
        // `interrupted` only when there are some: the line stays as it was for every uninterrupted run.
        let statuses: [HostOutcome.Status] = interrupted ? [.ok, .changed, .failed, .interrupted] : [.ok, .changed, .failed]
        let counts = statuses.map { status in
            "\(outcomes.filter { $0.status == status }.count) \(status.rawValue)"
        }
        out += "Apply: " + counts.joined(separator: ", ") + ".\n"
        if failed { out += Self.nextAfterFailure + "\n" }
        return out
    }

    /// Safe advice whatever failed: every step is idempotent, so a rerun redoes only what is still missing.
    public static let nextAfterFailure = "Next: fix what the failed hosts report above, then run apply again: "
        + "it redoes only what is still missing (converged hosts show no change)."
}
