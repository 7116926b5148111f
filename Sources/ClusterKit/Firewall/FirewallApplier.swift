/// Opens a second, new connection to the host being applied (`ConnectionPool.freshConnection`): the only
/// proof that a firewall change left SSH working is a connection made after it.
public typealias Reconnector = @Sendable () async throws -> HostTransport

/// How long the applier waits for the change the host runs detached (`FirewallScripts`).
public struct FirewallTiming: Sendable {
    /// Before the first new connection: the change runs `FirewallScripts.changeDelay` after arming.
    public var settle: Duration
    /// Before another new connection when the change had not run yet.
    public var retry: Duration

    public init(settle: Duration, retry: Duration) {
        self.settle = settle
        self.retry = retry
    }

    /// A connection made before the change ran proves nothing and costs a handshake: the first one waits for
    /// the change plus a margin for a busy host; a host whose `sleep` took the 1 s fallback is caught by a retry.
    public static let standard = FirewallTiming(settle: .milliseconds(600), retry: .milliseconds(500))
    /// For in-memory hosts, which run the change at once.
    public static let immediate = FirewallTiming(settle: .zero, retry: .zero)
}

/// Applies a `replace-firewall-chain` change with lock-out protection:
/// 1. over the run's connection, `FirewallScripts.applyScript`: snapshot, arm the rollback on the host,
///    schedule the change (one `iptables-restore --noflush`, atomic) and return;
/// 2. over a new connection made after the change, in one exec: read its result, disarm the rollback, persist
///    the OS way (`OSFamily.firewallPersistCommand`).
/// When no new connection works the host is reported failed and nothing is persisted: the rollback restores
/// the previous rules by itself within `rollbackSeconds`.
/// A change that provably cannot cut SSH (`SSHSafety`, given the transport's `sshPort`) skips all of it: applied,
/// saved and read back in one exec (`FirewallScripts.directScript`).
public struct FirewallApplier: Sendable {
    public var family: OSFamily
    public var rollbackSeconds: Int
    public var timing: FirewallTiming

    public init(family: OSFamily, rollbackSeconds: Int, timing: FirewallTiming = .standard) {
        self.family = family
        self.rollbackSeconds = rollbackSeconds
        self.timing = timing
    }

    public func apply(_ change: FirewallChange, transport: HostTransport, reconnect: Reconnector?) async throws {
        let step = "firewall \(change.chain)"
        func fail(_ message: String) -> ApplyError { ApplyError(step: step, message: message) }
        // The port the connection really reached (after ~/.ssh/config and jump hosts), not the inventory's.
        if let sshPort = transport.sshPort, SSHSafety.cannotCutSSH(change.rules, sshPorts: [22, sshPort]) {
            return try await applyDirectly(change, transport: transport, step: step, fail: fail)
        }
        let restoresWithin = "the host restores its previous rules within \(rollbackSeconds) s; nothing was saved"
        guard let reconnect else { throw fail("no way to open a new connection to check SSH after the change; rules not changed") }

        let armed: CommandResult
        do {
            armed = try await transport.run(FirewallScripts.applyScript(rollbackSeconds: rollbackSeconds),
                                            stdin: Array(FirewallScripts.restoreInput(change).utf8))
        } catch {
            throw fail("connection lost while arming the change (\(error)); if it was armed, \(restoresWithin)")
        }
        guard armed.succeeded, armed.stdoutText.contains(FirewallScripts.armedMarker + " ") else {
            throw fail(describeArmFailure(armed))
        }

        // New connections until one is made after the change ran, all before the rollback fires (1 s margin).
        let clock = ContinuousClock(), deadline = clock.now + .seconds(rollbackSeconds) - .seconds(1)
        try await Task.sleep(for: timing.settle)
        while true {
            let fresh: HostTransport
            do {
                guard let made = try await ReconnectRace.connect(reconnect, before: deadline) else {
                    throw fail("firewall change cut SSH (no new connection within \(rollbackSeconds - 1) s); \(restoresWithin)")
                }
                fresh = made
            } catch let error as ApplyError {
                throw error
            } catch {
                throw fail("firewall change cut SSH (a new connection failed: \(error)); \(restoresWithin)")
            }
            let checked: CommandResult
            do {
                checked = try await fresh.run(FirewallScripts.checkScript(persist: family.firewallPersistCommand))
            } catch {
                await fresh.close()
                throw fail("firewall change cut SSH (a new connection could not run a command: \(error)); \(restoresWithin)")
            }
            if checked.exitStatus == FirewallScripts.Exit.changeNotYetRun.rawValue, clock.now < deadline {
                await fresh.close()
                try await Task.sleep(for: timing.retry)
                continue
            }
            await fresh.close()
            let table = try result(of: checked, step: step, fail: fail) {
                "checking the change failed: \($0); the host restores its previous rules within \(rollbackSeconds) s"
            }
            try verify(change, applied: table, fail: fail)
            return
        }
    }

    /// A change no rule of which can match SSH: applied and saved in one exec of the run's connection.
    private func applyDirectly(_ change: FirewallChange, transport: HostTransport, step: String,
                               fail: (String) -> ApplyError) async throws {
        let ran: CommandResult
        do {
            ran = try await transport.run(FirewallScripts.directScript(persist: family.firewallPersistCommand),
                                          stdin: Array(FirewallScripts.restoreInput(change).utf8))
        } catch {
            throw fail("connection lost while changing the rules (\(error)); no rule of the change can match SSH")
        }
        if ran.exitStatus == FirewallScripts.Exit.pendingRollback.rawValue { throw fail(describeArmFailure(ran)) }
        let table = try result(of: ran, step: step, fail: fail) { "changing the rules failed: \($0)" }
        try verify(change, applied: table, fail: fail)
    }

    /// The table after the change, from the check (or direct) script's report; `unreadable` words a failed or
    /// unreadable run, given its description.
    private func result(of checked: CommandResult, step: String, fail: (String) -> ApplyError,
                        unreadable: (String) -> String) throws -> FilterTable {
        switch FirewallScripts.Exit(rawValue: checked.exitStatus) {
        case .rollbackRan?:
            throw fail("the rollback restored the previous rules before it could be disarmed "
                       + "(checking SSH took longer than \(rollbackSeconds) s); nothing was saved")
        case .changeNotYetRun?:
            throw fail("the change had not run on the host within \(rollbackSeconds) s; once the rollback is due it "
                       + "no longer runs; nothing was saved")
        default:
            break
        }
        guard checked.succeeded, let report = FirewallScripts.parseCheckOutput(checked.stdoutText) else {
            throw fail(unreadable(Self.describe(checked)))
        }
        let why = checked.stderrText.split(separator: "\n").suffix(3).joined(separator: " / ")
        guard report.applied else {
            throw fail("iptables-restore refused the rules; rules not changed" + (why.isEmpty ? "" : ": " + why))
        }
        // The check script saves in the same exec once it has disarmed the rollback.
        guard report.saved == 0 else {
            let status = report.saved.map { "exit status \($0)" } ?? "it did not report"
            throw ApplyError(step: "\(step): save the rules", message: status + (why.isEmpty ? "" : ": " + why))
        }
        return report.table
    }

    /// The rules are in place and saved; if iptables-save prints them differently from the template, every
    /// later plan would show a change: say which rule to rewrite.
    private func verify(_ change: FirewallChange, applied table: FilterTable, fail: (String) -> ApplyError) throws {
        let actual = table.rules(of: change.chain)
        if actual != change.rules {
            let differing = zip(change.rules, actual).first { $0 != $1 }
                .map { "template has \"\($0.0)\", iptables-save prints \"\($0.1)\"" }
                ?? "template has \(change.rules.count) rules, iptables-save prints \(actual.count)"
            throw fail("rules applied and saved, but not in iptables-save form, so every plan would show a change: "
                       + differing)
        }
        guard table.inputJumpPositions(to: change.chain) == [1] else {
            throw fail("after the change the INPUT jump to \(change.chain) is not the single first rule of INPUT")
        }
    }

    private func describeArmFailure(_ result: CommandResult) -> String {
        let what: String
        switch FirewallScripts.Exit(rawValue: result.exitStatus) {
        case .pendingRollback?: what = "rules not changed"
        case .snapshotFailed?: what = "could not save the current rules; rules not changed"
        case .armFailed?: what = "could not arm the rollback; rules not changed"
        default: what = "arming the change failed; rules not changed"
        }
        return what + ": " + Self.describe(result)
    }

    static func describe(_ result: CommandResult) -> String {
        let output = (result.stderrText + result.stdoutText).split(separator: "\n").suffix(3).joined(separator: " / ")
        let status = result.exitSignal.map { "killed by signal \($0)" } ?? "exit status \(result.exitStatus)"
        return status + (output.isEmpty ? "" : ": " + output)
    }
}
