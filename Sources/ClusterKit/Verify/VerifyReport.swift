/// One verified fact about the live cluster: passed or not, and why.
public struct VerifyCheck: Sendable, Equatable, Codable {
    /// Where the check ran (the host whose shell executed it).
    public var host: String
    /// Stable machine-readable name, e.g. `memcached.stats`, `memcached.reachable`, `php.extension`.
    public var check: String
    public var passed: Bool
    /// Human explanation: what was seen (on success) or what is wrong (on failure).
    public var detail: String

    public init(host: String, check: String, passed: Bool, detail: String) {
        self.host = host
        self.check = check
        self.passed = passed
        self.detail = detail
    }
}

public struct VerifyReport: Sendable, Equatable, Codable {
    public var checks: [VerifyCheck]

    public init(checks: [VerifyCheck]) { self.checks = checks }

    public var passed: Bool { checks.allSatisfy(\.passed) }
    public var failedCount: Int { checks.filter { !$0.passed }.count }

    /// The failed checks say what is wrong; most are drift from the inventory, which plan shows and apply fixes.
    public static let nextAfterFailure = "Next: `clusterctl plan` shows what differs from the inventory and "
        + "`clusterctl apply` converges it; a check that still fails after that names the host and what it saw."

    /// One line per check (✓/✗, host, detail), then a summary line.
    public var text: String {
        var lines = checks.map { "\($0.passed ? "✓" : "✗") \($0.host): \($0.detail)" }
        lines.append("")
        lines.append(passed
            ? "Verify: all \(checks.count) checks passed."
            : "Verify: \(failedCount) of \(checks.count) checks failed.")
        if !passed { lines.append(Self.nextAfterFailure) }
        return lines.joined(separator: "\n") + "\n"
    }
}
