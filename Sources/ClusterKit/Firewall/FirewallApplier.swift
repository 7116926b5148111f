/// Opens a second, new connection to the host being applied (`ConnectionPool.freshConnection`): the only
/// proof that a firewall change left SSH working is a connection made after it.
public typealias Reconnector = @Sendable () async throws -> HostTransport

/// Applies a `replace-firewall-chain` change with lock-out protection:
/// 1. over the run's connection, one script: snapshot the filter table, arm the rollback on the host,
///    one `iptables-restore --noflush` (atomic), print the resulting table;
/// 2. a new connection; on it, disarm the rollback (this also proves it can run commands), then persist
///    the OS way (`OSFamily.firewallPersistCommand`).
/// When the new connection fails the host is reported failed and nothing is persisted: the rollback restores
/// the previous rules by itself within `rollbackSeconds`.
public struct FirewallApplier: Sendable {
    public var family: OSFamily
    public var rollbackSeconds: Int

    public init(family: OSFamily, rollbackSeconds: Int) {
        self.family = family
        self.rollbackSeconds = rollbackSeconds
    }

    public func apply(_ change: FirewallChange, transport: HostTransport, reconnect: Reconnector?) async throws {
        let step = "firewall \(change.chain)"
        guard let reconnect else {
            throw ApplyError(step: step, message: "no way to open a new connection to check SSH after the change; "
                             + "rules not changed")
        }
        let input = FirewallScripts.restoreInput(change)
        let applied: CommandResult
        do {
            applied = try await transport.run(FirewallScripts.applyScript(rollbackSeconds: rollbackSeconds),
                                              stdin: Array(input.utf8))
        } catch {
            // The connection broke during the change: the rollback (if it was armed) takes over.
            throw ApplyError(step: step, message: "connection lost while changing the rules (\(error)); "
                             + "if the rules were changed the host restores its previous rules within \(rollbackSeconds) s")
        }
        guard applied.succeeded, let output = FirewallScripts.parseApplyOutput(applied.stdoutText) else {
            throw ApplyError(step: step, message: describeFailure(applied))
        }
        let fresh: HostTransport
        do {
            fresh = try await reconnect()
        } catch {
            throw ApplyError(step: step, message: "firewall change cut SSH (a new connection failed: \(error)); "
                             + "the host restores its previous rules within \(rollbackSeconds) s; nothing was saved")
        }
        do {
            try await disarmAndPersist(on: fresh, step: step)
        } catch {
            await fresh.close()
            throw error
        }
        await fresh.close()
        try verify(change, applied: output.table)
    }

    private func disarmAndPersist(on fresh: HostTransport, step: String) async throws {
        let disarm: CommandResult
        do {
            disarm = try await fresh.run(FirewallScripts.disarmScript)
        } catch {
            throw ApplyError(step: step, message: "firewall change cut SSH (the new connection could not run a command: "
                             + "\(error)); the host restores its previous rules within \(rollbackSeconds) s; nothing was saved")
        }
        if disarm.exitStatus == FirewallScripts.disarmRollbackRan {
            throw ApplyError(step: step, message: "the rollback restored the previous rules before it could be disarmed "
                             + "(checking SSH took longer than \(rollbackSeconds) s); nothing was saved")
        }
        guard disarm.succeeded else {
            throw ApplyError(step: step, message: "disarming the rollback failed: \(describeFailure(disarm)); "
                             + "the host restores its previous rules within \(rollbackSeconds) s")
        }
        try await ApplyCommand.run(family.firewallPersistCommand, on: fresh, step: "\(step): save the rules")
    }

    /// The rules are in place and saved; if iptables-save prints them differently from the template, every
    /// later plan would show a change: say which rule to rewrite.
    private func verify(_ change: FirewallChange, applied table: FilterTable) throws {
        let actual = table.rules(of: change.chain)
        if actual != change.rules {
            let differing = zip(change.rules, actual).first { $0 != $1 }
                .map { "template has \"\($0.0)\", iptables-save prints \"\($0.1)\"" }
                ?? "template has \(change.rules.count) rules, iptables-save prints \(actual.count)"
            throw ApplyError(step: "firewall \(change.chain)", message: "rules applied and saved, but not in "
                             + "iptables-save form, so every plan would show a change: \(differing)")
        }
        guard table.inputJumpPositions(to: change.chain) == [1] else {
            throw ApplyError(step: "firewall \(change.chain)", message: "after the change the INPUT jump to "
                             + "\(change.chain) is not the single first rule of INPUT")
        }
    }

    private func describeFailure(_ result: CommandResult) -> String {
        let output = (result.stderrText + result.stdoutText).split(separator: "\n").suffix(3).joined(separator: " / ")
        let what: String
        switch FirewallScripts.ApplyExit(rawValue: result.exitStatus) {
        case .pendingRollback?: what = "rules not changed"
        case .snapshotFailed?: what = "could not save the current rules; rules not changed"
        case .armFailed?: what = "could not arm the rollback; rules not changed"
        case .restoreFailed?: what = "iptables-restore refused the rules; rules not changed"
        case nil: what = result.exitSignal.map { "killed by signal \($0)" } ?? "exit status \(result.exitStatus)"
        }
        return what + (output.isEmpty ? "" : ": " + output)
    }
}
