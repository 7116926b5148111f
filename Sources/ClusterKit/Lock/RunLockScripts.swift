/// The POSIX-sh pieces of the run lock, run over the host's own transport (so through sudo where
/// `ssh.become` says so). The lock is one symbolic link, `/var/lib/clusterctl/run.lock`, whose target is the
/// `RunLockInfo` text: `ln -s` creates it atomically or fails if it exists, and `readlink` reads all of it
/// at once, so no reader ever sees a lock without its holder.
///
/// "Holder gone" is decided on the host, from the process table, never from age: the lock records the sshd
/// process serving the holder's connection (found by walking up from the script's shell); when that process
/// (same pid and start time) no longer exists, the connection is closed and the holder cannot change anything
/// more through it. Removing a stale lock is guarded by a claim, `run.lock.takeover-ID` (`ln -s`, so one
/// taker per stale lock id), and `unlock` takes the same claim: a lock is only ever removed by its holder, by
/// the one taker that claimed it, or by `unlock --id`.
public enum RunLockScripts {
    public static let directory = "/var/lib/clusterctl"
    public static let path = directory + "/run.lock"
    /// Marks the scripts for `InMemoryTransport`.
    public static let acquireMarker = "# clusterctl run-lock acquire"
    public static let releaseMarker = "# clusterctl run-lock release"
    public static let unlockMarker = "# clusterctl run-lock unlock"

    /// Shell functions: `cct_session` prints `PID:STARTTIME` of the sshd process this shell runs under (or
    /// `-`); `cct_alive SESSION` succeeds unless that process is provably gone; `cct_field KEY INFO`;
    /// `cct_read_serial FILE` sets `cct_serial` to the serial in FILE, `none` when there is none (the facts
    /// report it, an acquire compares it with theirs: both must read it alike).
    static let functions = #"""
    cct_stat() { { read -r s < /proc/$1/stat; } 2>/dev/null || return 1; c=${s#*"("}; c=${c%")"*}; r=${s##*")"}; }
    cct_session() {
      p=$$
      while [ "$p" -gt 1 ] 2>/dev/null && cct_stat $p; do
        set -- $r
        case $c in sshd|sshd-session) echo "$p:${20}"; return;; esac
        p=$2
      done
      echo -
    }
    cct_alive() {
      case $1 in *:*) ;; *) return 0;; esac
      [ -d /proc/self ] || return 0
      a=${1#*:}
      cct_stat "${1%%:*}" || return 1
      set -- $r
      [ "$1" != Z ] && [ "${20}" = "$a" ]
    }
    cct_field() { case ";$2;" in *";$1="*) v=${2#*";$1="}; echo "${v%%;*}";; esac; }
    cct_read_serial() { cct_serial=; [ -f "$1" ] && { read -r cct_serial < "$1"; } 2>/dev/null; cct_serial=${cct_serial:-none}; }
    """#

    /// The id of the last run that took the lock, written by every acquire; the facts report it (`lock-serial`)
    /// so an apply can tell, once it holds the lock, whether any run took the lock since its facts were read.
    public static func serialPath(lock path: String = path) -> String { path + ".serial" }

    /// Takes the lock or reports its holder. Prints one `run-lock …` line first: `run-lock acquired`
    /// (then `run-lock took-over OLDINFO` when a stale lock was replaced), `run-lock held INFO`, `run-lock
    /// claimed INFO` (a stale lock another run is taking over) or `run-lock error MESSAGE`; only when
    /// acquired does the rest of the script (`then`) run.
    /// `recheck` (the facts script) runs after `then`, unless `skipRecheckIfSerial` is the serial the lock had
    /// before this acquire: no run took the lock since the facts were read (with no lock present, the serial
    /// read first), so they still hold as far as clusterctl runs go; `run-lock unchanged` is printed instead.
    /// The serial is this lock's id afterwards.
    /// `whenHolderGone`: commands the lock's watcher runs, before removing the lock, if the holder's
    /// connection ends while the lock is still its own (see `watcher`).
    /// `path`: another place for the lock (tests run the real script in a temporary directory).
    public static func acquire(prefix: String, command: String, then rest: String, recheck: String = "",
                               skipRecheckIfSerial: String? = nil, whenHolderGone: String = "",
                               path: String = path) -> String {
        let serial = ShellQuote.quote(serialPath(lock: path))
        let skip = skipRecheckIfSerial.map { "[ \"$cct_prev\" = \(ShellQuote.quote($0)) ]" } ?? "false"
        return """
        \(acquireMarker)
        umask 022
        \(functions)
        l=\(ShellQuote.quote(path))
        [ -d "${l%/*}" ] || mkdir -p "${l%/*}" 2>/dev/null
        cct_info=\(ShellQuote.quote(prefix))";session=$(cct_session);command="\(ShellQuote.quote(command))
        n=0; took=
        while :; do
          if ln -s "$cct_info" "$l" 2>/dev/null; then
            echo run-lock acquired
            [ -n "$took" ] && echo "run-lock took-over $took"
            break
          fi
          old=$(readlink "$l" 2>/dev/null)
          if [ -z "$old" ]; then
            n=$((n + 1)); [ $n -lt 5 ] && continue
            echo "run-lock error cannot create $l"; exit 0
          fi
          oid=$(cct_field id "$old")
          if cct_alive "$(cct_field session "$old")"; then
            echo "run-lock held $old"; exit 0
          fi
          if ! ln -s "$cct_info" "$l.takeover-$oid" 2>/dev/null; then echo "run-lock claimed $old"; exit 0; fi
          [ "$(readlink "$l" 2>/dev/null)" = "$old" ] && rm -f "$l" && took=$old
          rm -f "$l.takeover-$oid"
        done
        cct_read_serial \(serial)
        cct_prev=$cct_serial
        printf '%s\\n' "$(cct_field id "$cct_info")" > \(serial)
        \(skip) && echo run-lock unchanged
        \(watcher(whenHolderGone))
        \(rest)
        \(skip) || {
        \(recheck.isEmpty ? ":" : recheck)
        }
        """
    }

    /// A process left on the host beside the lock, waiting for the holder's sshd session to end. Then, if
    /// the lock is still ours — the controller aborted (a second Ctrl-C), was killed, or lost the network —
    /// it takes the takeover claim (so it never races a run taking the lock over), runs `whenGone` (the
    /// temporary-file cleanup) and removes the lock; after a normal release it just exits. It waits in GNU
    /// `tail --pid` (one process, which checks the pid each second); where tail has no --pid (busybox) it
    /// looks each second itself, and stops looking once the lock is gone. Nothing is left where no sshd
    /// session was found.
    static func watcher(_ whenGone: String) -> String {
        """
        cct_lock_s=$(cct_field session "$cct_info"); cct_lock_id=$(cct_field id "$cct_info")
        case $cct_lock_s in *:*)
          (
            trap '' HUP INT TERM PIPE
            tail --pid="${cct_lock_s%%:*}" -s 1 -f /dev/null 2>/dev/null ||
              while cct_alive "$cct_lock_s" && [ -L "$l" ]; do sleep 1; done
            if [ "$(readlink "$l" 2>/dev/null)" = "$cct_info" ] && ln -s watcher "$l.takeover-$cct_lock_id" 2>/dev/null; then
              if [ "$(readlink "$l" 2>/dev/null)" = "$cct_info" ]; then
                \(whenGone.isEmpty ? ":" : whenGone)
                rm -f "$l"
              fi
              rm -f "$l.takeover-$cct_lock_id"
            fi
          ) </dev/null >/dev/null 2>&1 &
        esac
        """
    }

    /// Appends the journal lines (if any) and removes the lock if it is still this run's.
    public static func release(id: String, journal: [String], path: String = path) -> String {
        var lines = [releaseMarker]
        if !journal.isEmpty { lines.append(RunJournal.appendCommand(journal)) }
        lines.append("case $(readlink \(ShellQuote.quote(path)) 2>/dev/null) in *\(ShellQuote.quote(";id=\(id);"))*) "
                     + "rm -f \(ShellQuote.quote(path));; esac")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `clusterctl unlock HOST --id ID`: removes the lock only when its id is `id`, with a journal line.
    /// Prints `run-lock removed INFO`, `run-lock other INFO` (a different lock: left alone) or `run-lock none`.
    /// `journalLine` is completed on the host with the removed lock's text.
    public static func unlock(id: String, journalLine: String, path: String = path) -> String {
        let claim = path + ".takeover-" + id
        return """
        \(unlockMarker)
        \(functions)
        l=\(ShellQuote.quote(path))
        old=$(readlink "$l" 2>/dev/null) || { echo run-lock none; exit 0; }
        if [ "$(cct_field id "$old")" != \(ShellQuote.quote(id)) ]; then echo "run-lock other $old"; exit 0; fi
        ln -s unlock \(ShellQuote.quote(claim)) 2>/dev/null
        [ "$(readlink "$l" 2>/dev/null)" = "$old" ] && rm -f "$l"
        rm -f \(ShellQuote.quote(claim))
        \(RunJournal.appendCommand(quotedLines: [ShellQuote.quote(journalLine + " ") + "\"$old\""]))
        echo "run-lock removed $old"
        """
    }

    /// For the facts script: `lock-serial ID|none` (read before the lock itself: a run that takes the lock
    /// after this script looked at it changes the serial after this read), then, so plan shows a held lock,
    /// `lock held INFO` or `lock stale INFO`, nothing when free (without starting readlink then).
    public static let factsCommands = functions + "\n" + """
        cct_read_serial \(ShellQuote.quote(serialPath()))
        echo "lock-serial $cct_serial"
        if [ -L \(ShellQuote.quote(path)) ] && o=$(readlink \(ShellQuote.quote(path)) 2>/dev/null); then
          if cct_alive "$(cct_field session "$o")"; then echo "lock held $o"; else echo "lock stale $o"; fi
        fi
        """

    /// The outcome of an acquire script, from its first lines; `rest` is what the script printed after them.
    public enum Outcome: Equatable {
        /// `unchanged`: the recheck was skipped (no run took the lock since the facts were read).
        case acquired(tookOver: RunLockInfo?, unchanged: Bool, rest: [UInt8])
        case held(RunLockInfo?, raw: String, claimed: Bool)
        case error(String)
    }

    public static func parseAcquire(_ output: [UInt8]) -> Outcome {
        var rest = output[...]
        var tookOver: RunLockInfo?
        var acquired = false, unchanged = false
        while rest.starts(with: Array("run-lock ".utf8)) {
            let end = rest.firstIndex(of: 10) ?? rest.endIndex
            let line = String(decoding: rest[rest.startIndex..<end], as: UTF8.self)
            rest = end == rest.endIndex ? [] : rest[(end + 1)...]
            let words = line.split(separator: " ", maxSplits: 2).map(String.init)
            let argument = words.count > 2 ? words[2] : ""
            switch words.count > 1 ? words[1] : "" {
            case "acquired": acquired = true
            case "took-over": tookOver = RunLockInfo.parse(argument)
            case "unchanged": unchanged = true
            case "held": return .held(RunLockInfo.parse(argument), raw: argument, claimed: false)
            case "claimed": return .held(RunLockInfo.parse(argument), raw: argument, claimed: true)
            case "error": return .error(argument)
            default: return .error("unexpected answer: \(line)")
            }
        }
        return acquired ? .acquired(tookOver: tookOver, unchanged: unchanged, rest: Array(rest))
            : .error("no answer from the lock script: " + String(decoding: output.prefix(200), as: UTF8.self))
    }
}
