/// The shell scripts and the `iptables-restore` input of the firewall step. POSIX sh and EL5-era tools only
/// (iptables 1.3.5: no `-C`, no `-w`; `iptables-restore --noflush`, `-D`/`-I` in restore input work).
///
/// Lock-out protection lives on the host, so it works even when the change kills the SSH connection:
/// `applyScript` snapshots the filter table, arms a detached rollback (`sleep N`, then restore the snapshot;
/// detached as a subshell `(trap '' HUP; …) &`: nohup's effect without starting nohup or another shell)
/// and schedules the change itself, detached, a moment later — after the script has returned, because a rule
/// that drops SSH also drops the packets of the connection that made it, and its answer would never arrive.
/// `checkScript`, run over a *new* connection, reports the change and disarms the rollback. The marker file
/// decides the race between the two: the rollback `mv`s it away before restoring, the disarm `rm`s it;
/// exactly one of them succeeds.
public enum FirewallScripts {
    public static let stateDirectory = "/var/lib/clusterctl"
    /// `iptables-save -t filter` from just before the change: what the rollback restores.
    public static let snapshotPath = stateDirectory + "/firewall-previous.rules"
    /// The `restoreInput` of the change.
    public static let nextPath = stateDirectory + "/firewall-next.rules"
    /// Written by the change once it ran: `0` (applied) or `1` (iptables-restore refused it).
    public static let statusPath = stateDirectory + "/firewall-change.status"
    /// `iptables-save -t filter` right after the change, and iptables-restore's complaints.
    public static let afterPath = stateDirectory + "/firewall-after.rules"
    public static let errorPath = stateDirectory + "/firewall-restore.err"
    /// Exists (holding the rollback's pid) while a rollback is armed.
    public static let markerPath = stateDirectory + "/firewall-rollback.armed"
    /// One line per rollback that fired.
    public static let logPath = stateDirectory + "/firewall-rollback.log"

    public static let armedMarker = "clusterctl-firewall-armed"
    public static let statusMarker = "clusterctl-firewall-status"
    /// Seconds between the apply script's return and the change: long enough for the script's answer to
    /// leave the host (the change may drop the packets of the connection that armed it), short because every
    /// host's firewall step waits for it. `sleep` of GNU coreutils (EL5's 5.97 too) and busybox take
    /// fractions; one that does not sleeps a whole second (`changeDelayFallbackSeconds`).
    public static let changeDelay = "0.3"
    public static let changeDelayFallbackSeconds = 1

    /// Exit statuses of `applyScript` (nothing was changed) and of `checkScript`.
    public enum Exit: Int32 {
        case pendingRollback = 11, snapshotFailed = 12, armFailed = 13
        /// checkScript: the rollback already restored the previous rules.
        case rollbackRan = 20
        /// checkScript: the change has not run yet, so this connection may predate it and proves nothing.
        case changeNotYetRun = 30
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

    private static func q(_ path: String) -> String { ShellQuote.quote(path) }

    /// Changes nothing while an earlier apply's rollback is armed: it would undo this change when it fires.
    private static let pendingRollbackCheck = """
        if [ -f \(q(markerPath)) ] && { read -r p < \(q(markerPath)); } 2>/dev/null && kill -0 "$p" 2>/dev/null; then
          echo "a firewall rollback of an earlier apply is still pending (pid $p); try again after it ran" >&2
          exit \(Exit.pendingRollback.rawValue)
        fi
        """

    /// Run with `restoreInput` on stdin. Prints `armedMarker PID` and returns; the change runs
    /// `changeDelay` later. Exits with an `Exit` code, having changed nothing, when it cannot arm.
    /// Every process started here costs milliseconds on every host of a cold apply (issue 15), so tests and
    /// the detached parts stay in the shell: subshells rather than `sh -c`, a `case` rather than `grep`.
    public static func applyScript(rollbackSeconds: Int) -> String {
        let marker = q(markerPath)
        let rollback = "sleep \(rollbackSeconds); mv -f \(marker) \(marker).fired 2>/dev/null || exit 0; "
            + "iptables-restore < \(q(snapshotPath)); echo \"$(date) restored the rules from before an apply\" >> \(q(logPath))"
        // A refused change disarms the rollback at once (nothing changed). No marker = the rollback already ran
        // (the change was too late to be checked): then the change must not run at all.
        let change = "sleep \(changeDelay) 2>/dev/null || sleep \(changeDelayFallbackSeconds); [ -f \(marker) ] || exit 0; "
            + "if iptables-restore --noflush < \(q(nextPath)) 2> \(q(errorPath)); then s=0; else s=1; rm -f \(marker); kill \"$rollback\"; fi; "
            + "iptables-save -t filter > \(q(afterPath)); echo $s > \(q(statusPath)).new; mv -f \(q(statusPath)).new \(q(statusPath))"
        return """
        umask 077
        [ -d \(q(stateDirectory)) ] || mkdir -p \(q(stateDirectory)) || exit \(Exit.snapshotFailed.rawValue)
        \(pendingRollbackCheck)
        rm -f \(q(statusPath)) \(q(afterPath)) \(q(errorPath))
        cat > \(q(nextPath)) || exit \(Exit.snapshotFailed.rawValue)
        iptables-save -t filter > \(q(snapshotPath)) || { echo 'iptables-save failed' >&2; exit \(Exit.snapshotFailed.rawValue); }
        f=; while IFS= read -r l; do case $l in '*filter') f=1; break;; esac; done < \(q(snapshotPath))
        if [ -z "$f" ]; then
          printf '*filter\\n:INPUT ACCEPT [0:0]\\n:FORWARD ACCEPT [0:0]\\n:OUTPUT ACCEPT [0:0]\\nCOMMIT\\n' > \(q(snapshotPath))
        fi
        (trap '' HUP; \(rollback)) </dev/null >/dev/null 2>&1 &
        rollback=$!
        echo "$rollback" > \(marker).new && mv -f \(marker).new \(marker) || { kill "$rollback"; exit \(Exit.armFailed.rawValue); }
        (trap '' HUP; \(change)) </dev/null >/dev/null 2>&1 &
        echo "\(armedMarker) $rollback"
        """
    }

    /// Marks the check script (for `InMemoryTransport`).
    public static let checkMarker = "# clusterctl firewall check"
    /// The check script's line carrying `persist`'s exit status (before `statusMarker`).
    public static let savedMarker = "clusterctl-firewall-saved"

    /// Run over a new connection. Exit 0: prints `statusMarker S` and the table after the change, and (S = 0)
    /// has disarmed the rollback and run `persist` (the family's save, e.g. `service iptables save`), whose
    /// status it prints as `savedMarker N` first and whose output goes to stderr with iptables-restore's
    /// complaints. Otherwise an `Exit` code. One exec for check and save: a process less on every host.
    public static func checkScript(persist: String) -> String {
        let marker = q(markerPath)
        return """
        \(checkMarker)
        [ -f \(q(statusPath)) ] || exit \(Exit.changeNotYetRun.rawValue)
        read -r s < \(q(statusPath))
        if [ "$s" = 0 ]; then
          { read -r pid < \(marker); } 2>/dev/null && rm \(marker) 2>/dev/null || exit \(Exit.rollbackRan.rawValue)
          kill "$pid" 2>/dev/null
          { \(persist); } </dev/null >&2
          echo "\(savedMarker) $?"
        fi
        [ -s \(q(errorPath)) ] && cat \(q(errorPath)) >&2
        echo "\(statusMarker) $s"
        cat \(q(afterPath))
        """
    }

    /// Marks the direct script (for `InMemoryTransport`).
    public static let directMarker = "# clusterctl firewall direct"

    /// For a change that cannot cut SSH (`SSHSafety`): run with `restoreInput` on stdin, it applies the change
    /// at once (one `iptables-restore --noflush`, atomic), saves it with `persist` and reports like
    /// `checkScript`, all in this exec. A rollback still pending from an earlier apply would undo the change
    /// when it fires: then it changes nothing and exits `Exit.pendingRollback`.
    public static func directScript(persist: String) -> String {
        """
        \(directMarker)
        \(pendingRollbackCheck)
        if iptables-restore --noflush; then
          s=0
          { \(persist); } </dev/null >&2
          echo "\(savedMarker) $?"
        else s=1; fi
        echo "\(statusMarker) $s"
        iptables-save -t filter
        """
    }

    /// Reads the status, the save's exit status (nil when it did not run) and the filter table the check
    /// script printed.
    static func parseCheckOutput(_ output: String) -> (applied: Bool, saved: Int32?, table: FilterTable)? {
        var lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        guard let index = lines.firstIndex(where: { $0.hasPrefix(statusMarker + " ") }) else { return nil }
        let status = lines[index].dropFirst(statusMarker.count + 1)
        guard status == "0" || status == "1" else { return nil }
        let saved = lines[..<index].last { $0.hasPrefix(savedMarker + " ") }
            .flatMap { Int32($0.dropFirst(savedMarker.count + 1)) }
        lines.removeSubrange(...index)
        return (status == "0", saved, FilterTable.parse(lines.joined(separator: "\n")))
    }
}
