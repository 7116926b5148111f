import Foundation

/// Takes and releases one host's run lock for an apply, over the host's run connection. Taking it is the
/// same exec as whatever must run under it first (`then`: the temporary-file cleanup; `recheck`: the facts
/// that re-check the plan, unless no run took the lock since they were read), so locking adds one round
/// trip per changed host, and releasing (with the journal) one more at its end.
public struct HostRunLock: Sendable {
    public var identity: RunIdentity
    /// How long to wait for a lock another live run holds; zero fails at once.
    public var timeout: Duration
    public var pollInterval: Duration

    public init(identity: RunIdentity, timeout: Duration = .zero, pollInterval: Duration = .seconds(1)) {
        self.identity = identity
        self.timeout = timeout
        self.pollInterval = pollInterval
    }

    public var lockID: String { identity.runID }

    public struct Acquired: Sendable {
        /// A stale lock this run replaced (its holder's connection was gone).
        public var tookOver: RunLockInfo?
        /// The recheck was skipped: no run took the lock since the facts were read (`skipRecheckIfSerial`).
        public var recheckSkipped: Bool
        /// What `then` (and `recheck`) printed, and whether it succeeded.
        public var output: [UInt8]
        public var succeeded: Bool
        public var stderr: String
    }

    /// Tries until the lock is taken, the timeout passes (`RunLockHeld`) or `interruption` is requested
    /// (`ApplyInterrupted`). `waiting` is told once, when the first attempt finds the lock held.
    /// `whenHolderGone`: what the host runs by itself if this run's connection ends while it holds the lock
    /// (`RunLockScripts.watcher`), before the lock is removed.
    public func acquire(host: String, transport: HostTransport, then rest: String, recheck: String = "",
                        skipRecheckIfSerial: String? = nil, whenHolderGone: String = "",
                        interruption: ApplyInterruption?,
                        waiting: (RunLockInfo?) -> Void) async throws -> Acquired {
        let script = RunLockScripts.acquire(prefix: RunLockInfo.prefix(identity, id: lockID), command: identity.command,
                                            then: rest, recheck: recheck, skipRecheckIfSerial: skipRecheckIfSerial,
                                            whenHolderGone: whenHolderGone)
        let clock = ContinuousClock(), deadline = clock.now + timeout
        var toldWaiting = false
        while true {
            let result: CommandResult
            do {
                result = try await transport.run(FactsGatherer.command, stdin: Array(script.utf8))
            } catch {
                throw ApplyError(step: "take the run lock", message: String(describing: error))
            }
            switch RunLockScripts.parseAcquire(result.stdout) {
            case .acquired(let tookOver, let unchanged, let output):
                return Acquired(tookOver: tookOver, recheckSkipped: unchanged, output: output, succeeded: result.succeeded,
                                stderr: result.stderrText)
            case .held(let holder, let raw, let claimed):
                if interruption?.isRequested == true { throw ApplyInterrupted() }
                guard clock.now < deadline else {
                    throw RunLockHeld(host: host, holder: holder, detail: holder == nil ? "held: \(raw)"
                                      : claimed ? "its holder is gone and another run is taking it over" : "")
                }
                if !toldWaiting { waiting(holder); toldWaiting = true }
                try await Task.sleep(for: min(pollInterval, deadline - clock.now))
            case .error(let message):
                throw ApplyError(step: "take the run lock", message: message + (result.stderrText.isEmpty ? "" : ": " + result.stderrText))
            }
        }
    }

    /// Writes the journal and removes the lock (if it is still ours). Run also after a failure.
    public func release(transport: HostTransport, journal: [RunJournal.Entry]) async throws {
        let lines = journal.map { RunJournal.line($0, run: identity) }
        let result = try await transport.run(FactsGatherer.command,
                                             stdin: Array(RunLockScripts.release(id: lockID, journal: lines).utf8))
        guard result.succeeded else {
            throw ApplyError(step: "release the run lock", message: "exit status \(result.exitStatus): \(result.stderrText)")
        }
    }
}

/// An apply stopped before it started on this host (Ctrl-C while waiting for its lock).
public struct ApplyInterrupted: Error, Equatable, CustomStringConvertible {
    public var description: String { "interrupted while waiting for the run lock" }
}

/// `clusterctl unlock HOST --id ID`: removes a stuck run lock, only the one with that id.
public enum RunLockRemoval {
    public enum Result: Equatable {
        case removed(RunLockInfo?)
        /// Another lock (a different id) holds the host: left alone.
        case other(RunLockInfo?)
        case none
    }

    public static func unlock(id: String, transport: HostTransport, identity: RunIdentity) async throws -> Result {
        let line = RunJournal.line(RunJournal.Entry(what: "unlock: removed the run lock", ok: true), run: identity)
        let result = try await transport.run(FactsGatherer.command,
                                             stdin: Array(RunLockScripts.unlock(id: id, journalLine: line).utf8))
        let answer = result.stdoutText.split(separator: "\n").first.map(String.init) ?? ""
        let words = answer.split(separator: " ", maxSplits: 2).map(String.init)
        guard result.succeeded, words.first == "run-lock", words.count >= 2 else {
            throw ApplyError(step: "unlock", message: "exit status \(result.exitStatus): \(result.stderrText)\(answer)")
        }
        let info = words.count > 2 ? RunLockInfo.parse(words[2]) : nil
        switch words[1] {
        case "removed": return .removed(info)
        case "other": return .other(info)
        case "none": return Result.none
        default: throw ApplyError(step: "unlock", message: "unexpected answer: \(answer)")
        }
    }
}
