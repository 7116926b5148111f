/// The shell scripts and the `iptables-restore` input of the firewall step. POSIX sh and EL5-era tools only
/// (iptables 1.3.5: no `-C`, no `-w`; `iptables-restore --noflush`, `-D`/`-I` in restore input work).
///
/// Lock-out protection lives on the host, so it works even when the change kills the SSH connection:
/// `applyScript` snapshots the filter table, arms a detached rollback (`sleep N`, then restore the snapshot)
/// and only then changes the rules. `disarmScript`, run over a *new* connection, proves SSH still works and
/// cancels the rollback. The marker file decides the race between the two: the rollback `mv`s it away
/// before restoring, the disarm `rm`s it; exactly one of them succeeds.
public enum FirewallScripts {
    public static let stateDirectory = "/var/lib/clusterctl"
    /// `iptables-save -t filter` from just before the change: what the rollback restores.
    public static let snapshotPath = stateDirectory + "/firewall-previous.rules"
    /// Exists (holding the rollback's pid) while a rollback is armed.
    public static let markerPath = stateDirectory + "/firewall-rollback.armed"
    /// One line per rollback that fired.
    public static let logPath = stateDirectory + "/firewall-rollback.log"
    public static let appliedMarker = "clusterctl-firewall-applied"

    /// Exit statuses of `applyScript` that mean "nothing was changed".
    public enum ApplyExit: Int32 {
        case pendingRollback = 11, snapshotFailed = 12, armFailed = 13, restoreFailed = 14
    }

    /// The `iptables-restore --noflush` input: declaring our chain creates it or (existing) flushes just it,
    /// then its rules; the INPUT jump is (re)placed first only when it is not already the single rule 1.
    /// One COMMIT: the kernel sees the whole change or none of it. Other chains and tables are not named.
    public static func restoreInput(_ change: FirewallChange) -> String {
        var lines = ["*filter", ":\(change.chain) - [0:0]"]
        lines += change.rules
        if change.movesJump {
            // Each -D removes the first plain jump; one per jump seen in the facts (a stale saved plan is
            // refused by its fingerprint, so the count is the host's).
            lines += change.inputJumps.map { _ in "-D INPUT -j \(change.chain)" }
            lines.append("-I INPUT 1 -j \(change.chain)")
        }
        lines.append("COMMIT")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Run with `restoreInput` on stdin. Prints `appliedMarker PID` and then the new `iptables-save -t filter`.
    public static func applyScript(rollbackSeconds: Int) -> String {
        let d = ShellQuote.quote(stateDirectory), snapshot = ShellQuote.quote(snapshotPath)
        let marker = ShellQuote.quote(markerPath), log = ShellQuote.quote(logPath)
        let rollback = "sleep \(rollbackSeconds); mv -f \(marker) \(marker).fired 2>/dev/null || exit 0; "
            + "iptables-restore < \(snapshot); echo \"$(date) restored the rules from before an apply\" >> \(log)"
        return """
        umask 077
        mkdir -p \(d) || exit \(ApplyExit.snapshotFailed.rawValue)
        if [ -f \(marker) ] && kill -0 "$(cat \(marker))" 2>/dev/null; then
          echo "a firewall rollback of an earlier apply is still pending (pid $(cat \(marker))); try again after it ran" >&2
          exit \(ApplyExit.pendingRollback.rawValue)
        fi
        iptables-save -t filter > \(snapshot) || { echo 'iptables-save failed' >&2; exit \(ApplyExit.snapshotFailed.rawValue); }
        if ! grep -q '^[*]filter' \(snapshot); then
          printf '*filter\\n:INPUT ACCEPT [0:0]\\n:FORWARD ACCEPT [0:0]\\n:OUTPUT ACCEPT [0:0]\\nCOMMIT\\n' > \(snapshot)
        fi
        nohup sh -c \(ShellQuote.quote(rollback)) </dev/null >/dev/null 2>&1 &
        pid=$!
        echo "$pid" > \(marker).new && mv -f \(marker).new \(marker) || { kill "$pid"; exit \(ApplyExit.armFailed.rawValue); }
        if ! iptables-restore --noflush; then
          rm -f \(marker); kill "$pid" 2>/dev/null
          exit \(ApplyExit.restoreFailed.rawValue)
        fi
        echo "\(appliedMarker) $pid"
        iptables-save -t filter
        """
    }

    /// Run over a new connection after the change. Exit 0: disarmed. Exit 20: the rollback already ran.
    public static let disarmScript: String = {
        let marker = ShellQuote.quote(markerPath)
        return """
        pid=$(cat \(marker) 2>/dev/null) && rm \(marker) 2>/dev/null || exit 20
        kill "$pid" 2>/dev/null
        exit 0
        """
    }()
    public static let disarmRollbackRan: Int32 = 20

    /// Reads the rollback pid and the filter table the apply script printed.
    static func parseApplyOutput(_ output: String) -> (pid: String, table: FilterTable)? {
        var lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        guard let index = lines.firstIndex(where: { $0.hasPrefix(appliedMarker + " ") }) else { return nil }
        let pid = String(lines[index].dropFirst(appliedMarker.count + 1))
        lines.removeSubrange(...index)
        return (pid, FilterTable.parse(lines.joined(separator: "\n")))
    }
}
