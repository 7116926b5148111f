import Foundation

/// Who is running this apply: recorded in every host's run lock and journal, so a second operator (or the
/// host itself, later) can tell who holds a host or changed it. Values are reduced to a safe character set
/// once, here, so the lock and journal formats never need escaping.
public struct RunIdentity: Sendable, Equatable {
    /// Random, per run: ties a host's journal lines and its lock to one apply.
    public var runID: String
    /// `user@controller-hostname`.
    public var who: String
    /// The controller process (`unlock` may need it, and a same-machine holder's pid proves it dead).
    public var pid: Int32
    public var controllerHost: String
    /// The command line, shortened.
    public var command: String
    /// UTC ISO-8601 (seconds).
    public var started: String

    public init(runID: String = RunIdentity.randomID(), user: String, controllerHost: String, pid: Int32,
                command: String, started: Date = Date()) {
        self.runID = runID
        self.controllerHost = Self.clean(controllerHost, max: 64)
        who = Self.clean(user, max: 32) + "@" + self.controllerHost
        self.pid = pid
        self.command = Self.clean(command, max: 200)
        self.started = RunJournal.timestamp(started)
    }

    /// The current process's: login name from the environment or the password database, hostname, argv.
    public static func current(command: [String] = CommandLine.arguments) -> RunIdentity {
        let env = ProcessInfo.processInfo.environment
        let user = env["USER"] ?? env["LOGNAME"] ?? getpwuid(getuid()).flatMap { String(validatingCString: $0.pointee.pw_name) }
            ?? "uid\(getuid())"
        let program = command.first.map { ($0 as NSString).lastPathComponent } ?? "clusterctl"
        return RunIdentity(user: user, controllerHost: ProcessInfo.processInfo.hostName,
                           pid: ProcessInfo.processInfo.processIdentifier,
                           command: ([program] + command.dropFirst()).joined(separator: " "))
    }

    public static func randomID() -> String {
        String(format: "%016llx", UInt64.random(in: .min ... .max))
    }

    /// Letters, digits and `._-@:+=,/` and spaces survive; anything else (quotes, `;`, control characters,
    /// non-ASCII) becomes `_`. Keeps the lock's `;`-separated fields and the journal's lines unambiguous.
    static func clean(_ text: String, max: Int) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@:+=,/ ")
        let cleaned = String(text.map { allowed.contains($0) ? $0 : "_" })
        return cleaned.count > max ? String(cleaned.prefix(max - 1)) + "~" : cleaned
    }
}

/// A host's run lock as it is stored (the target of the symbolic link `RunLockScripts.path`):
///
///     clusterctl-run-lock 1;id=3f9c…;by=alice@ops1;pid=4242;started=2026-11-25T14:00:00Z;session=812:1234567;command=clusterctl apply -i inv.json --yes
///
/// `session` is `PID:STARTTIME` of the sshd process serving the holder's connection (start time in clock
/// ticks since boot, from /proc/PID/stat, so a reused pid is not mistaken for it), or `-` when it could not be
/// found: such a lock is never taken over automatically. `command` is last and takes the rest.
public struct RunLockInfo: Sendable, Equatable, CustomStringConvertible {
    public static let magic = "clusterctl-run-lock 1"

    public var id: String
    public var who: String
    public var pid: Int32
    public var started: String
    public var session: String
    public var command: String
    /// From the host's check when read by plan: the holder's SSH session no longer exists.
    public var stale: Bool = false

    public init(id: String, who: String, pid: Int32, started: String, session: String, command: String, stale: Bool = false) {
        (self.id, self.who, self.pid, self.started, self.session, self.command, self.stale) =
            (id, who, pid, started, session, command, stale)
    }

    /// The part the controller writes; the host adds `;session=…` and the command (`RunLockScripts`).
    public static func prefix(_ identity: RunIdentity, id: String) -> String {
        "\(magic);id=\(id);by=\(identity.who);pid=\(identity.pid);started=\(identity.started)"
    }

    public static func parse(_ text: String) -> RunLockInfo? {
        guard text.hasPrefix(magic + ";") else { return nil }
        var fields: [String: String] = [:]
        var rest = Substring(text.dropFirst(magic.count + 1))
        while !rest.isEmpty {
            guard let equals = rest.firstIndex(of: "=") else { return nil }
            let key = String(rest[..<equals])
            if key == "command" {   // last, may contain anything but newlines
                fields[key] = String(rest[rest.index(after: equals)...])
                break
            }
            let end = rest[equals...].firstIndex(of: ";") ?? rest.endIndex
            fields[key] = String(rest[rest.index(after: equals)..<end])
            rest = end == rest.endIndex ? "" : rest[rest.index(after: end)...]
        }
        guard let id = fields["id"], !id.isEmpty, let who = fields["by"], let pidText = fields["pid"],
              let pid = Int32(pidText) else { return nil }
        return RunLockInfo(id: id, who: who, pid: pid, started: fields["started"] ?? "?", session: fields["session"] ?? "-",
                           command: fields["command"] ?? "")
    }

    /// For people: `alice@ops1 (pid 4242, since 2026-11-25T14:00:00Z, lock id 3f9c…: clusterctl apply …)`.
    public var description: String {
        "\(who) (pid \(pid), since \(started), lock id \(id)" + (command.isEmpty ? "" : ": \(command)") + ")"
    }

    /// The controller host of the holder (`who` after the `@`).
    public var controllerHost: String { who.split(separator: "@", maxSplits: 1).dropFirst().first.map(String.init) ?? "" }
}

/// A host apply did not lock because another run holds it (or a stale lock is being taken over by a third).
public struct RunLockHeld: Error, CustomStringConvertible, Equatable {
    public var host: String
    public var holder: RunLockInfo?
    public var detail: String

    public var description: String {
        guard let holder else { return "run lock: \(detail)" }
        return "locked by \(holder)\(detail.isEmpty ? "" : "; \(detail)"); nothing applied. Wait for it "
            + "(apply --lock-timeout), or if it is stuck: clusterctl unlock \(host) --id \(holder.id)"
    }
}
