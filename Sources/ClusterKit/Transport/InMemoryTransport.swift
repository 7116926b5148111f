/// A simulated host behind the `HostTransport` protocol, for unit tests of facts, plan and apply without
/// SSH: an EL5 host by default (yum, chkconfig, service), or a Debian-family one (apt-get, systemctl) when
/// `family` says so. It answers the facts script from its state (independently of `FactsParser`, so the
/// parser is tested against a second producer of the format) — only the branch of the script for its own
/// family, as a real host's sh would — carries out the commands the engine sends, and records every command
/// and upload. Proofs on real hosts are the integration tests' job.
public actor InMemoryTransport: HostTransport {
    public struct Service: Sendable, Equatable {
        public var enabled: Bool
        public var running: Bool
        public init(enabled: Bool = false, running: Bool = false) {
            self.enabled = enabled
            self.running = running
        }
    }

    public var osRelease = "CentOS release 5.11 (Final)"
    /// The family key the facts script's detection reports ("unsupported" for an OS no family matches).
    public var family = "el5"
    /// ufw installed and active (the facts report `ufw active`).
    public var ufwActive = false
    /// `getenforce` (lower-cased) and the SELinux booleans that are on (`setsebool -P NAME on` adds to them).
    public var selinuxMode = "disabled"
    public var selinuxBooleansOn: Set<String> = []
    public var installed: Set<String> = []
    public var services: [String: Service] = [:]
    public var files: [String: RemoteFile] = [:]
    /// Files a package creates when installed (e.g. php → /etc/php.ini).
    public var packageFiles: [String: [String: String]] = [:]
    /// Packages `yum install` silently skips, like EL5's yum for a package no repository has.
    public var unavailablePackages: Set<String> = []
    /// Every `run` command, in order (the facts script is recorded as `FactsGatherer.command`).
    public private(set) var commands: [String] = []
    public private(set) var uploads: [(path: String, data: [UInt8], mode: Int32)] = []
    /// When set, every call throws this message (an unreachable host).
    public var unreachable: String?
    /// A command containing any of these substrings fails with exit status 1.
    public var failingCommands: [String] = []
    /// Shared between hosts to observe the order of commands across them, entries "label: command".
    public var journal: CommandJournal?
    public var label = ""
    /// Yields this many times before each command: a slow host, to expose missing cross-host ordering.
    public var yieldsBeforeCommands = 0

    // The firewall (FirewallScripts): the filter table, the rollback the apply script arms, what was saved.
    public var filterTable = SimulatedFilterTable()
    /// The table the armed rollback would restore; nil when no rollback is armed.
    public internal(set) var armedRollback: SimulatedFilterTable?
    /// What `service iptables save` stored (/etc/sysconfig/iptables).
    public private(set) var savedFirewall: String?
    /// The status file of the last change (0 applied, 1 refused); nil before any.
    public private(set) var firewallChangeStatus: Int?
    /// How many check scripts find the change not run yet (a slow host).
    public var checksBeforeTheChangeRuns = 0
    /// The rollback ran: the sleeping process on a host whose SSH the change cut.
    public func fireRollback() {
        if let previous = armedRollback { filterTable = previous }
        armedRollback = nil
    }

    // The run lock (`RunLockScripts`): its text while held, whether its holder's session still lives, and
    // the lines appended to the journal.
    public var runLock: String?
    public var runLockHolderAlive = true
    /// The id of the last run that took the lock (`RunLockScripts.serialPath`); nil: none ever did.
    public var runLockSerial: String?
    public internal(set) var journalLines: [String] = []

    /// As a real host's would report it; nil (the default) leaves every firewall change protected.
    public nonisolated let sshPort: Int?

    public init(sshPort: Int? = nil) {
        self.sshPort = sshPort
    }

    public func configure(_ body: @Sendable (isolated InMemoryTransport) -> Void) { body(self) }

    public func run(_ command: String, stdin: [UInt8]) async throws -> CommandResult {
        if let unreachable { throw InMemoryTransportError(message: unreachable) }
        commands.append(command)
        for _ in 0..<yieldsBeforeCommands { await Task.yield() }
        await journal?.append("\(label): \(command)")
        // The firewall scripts run the save inside: a failing save fails there (`save`).
        if !command.hasPrefix(FirewallScripts.checkMarker), !command.hasPrefix(FirewallScripts.directMarker),
           failingCommands.contains(where: command.contains) {
            // An install's, without the facts that follow it (`FactsScript.followedByRefresh`).
            let shown = command.range(of: FactsScript.refreshSeparator).map { command[..<$0.lowerBound] } ?? command[...]
            return CommandResult(stderr: Array("simulated failure of: \(shown)\n".utf8), exitStatus: 1)
        }
        if command == FactsGatherer.command, let result = runLockScript(String(decoding: stdin, as: UTF8.self)) {
            return result
        }
        if command == FactsGatherer.command {
            return CommandResult(stdout: factsReport(script: String(decoding: stdin, as: UTF8.self)))
        }
        if let result = firewallCommand(command, stdin: stdin) { return result }
        // An install followed by the facts of the files it may have replaced (`FactsScript.followedByRefresh`).
        if let refresh = command.range(of: FactsScript.refreshSeparator) {
            var result = execute(compound: String(command[..<refresh.lowerBound]))
            if result.succeeded { result.stdout += factsReport(script: String(command[refresh.upperBound...])) }
            return result
        }
        return execute(compound: command)
    }

    /// A file commit, an install, or commands joined by `&&`.
    private func execute(compound command: String) -> CommandResult {
        if command.hasPrefix("{ ") { return commitFile(command.split(separator: " ").map { unquote(String($0)) }) }
        if command.hasPrefix("export DEBIAN_FRONTEND=noninteractive;"), let install = command.range(of: " install "),
           let end = command.range(of: " && for p in ") {
            // AptPackages.installCommand: the packages stand between "install" and the check loop.
            return execute("apt-get install " + command[install.upperBound..<end.lowerBound])
        }
        var last = CommandResult()
        // SystemdServices' check that a started unit stayed up: a simulated service always does.
        let checked = command.range(of: " && { sleep 1; systemctl is-active").map { String(command[..<$0.lowerBound]) } ?? command
        for part in checked.components(separatedBy: " && ") {
            last = execute(part)
            if !last.succeeded { break }
        }
        return last
    }

    public func upload(_ data: [UInt8], to path: String, mode: Int32) async throws {
        if let unreachable { throw InMemoryTransportError(message: unreachable) }
        uploads.append((path, data, mode))
        files[path] = RemoteFile(contents: data, mode: mode, owner: "root", group: "root")
    }

    public func close() async {}

    public func commandsMatching(_ prefix: String) -> [String] { commands.filter { $0.hasPrefix(prefix) } }

    // MARK: facts

    func factsReport(script: String) -> [UInt8] {
        var out = "\(FactsScript.header)\nos \(osRelease)\nfamily \(family)\n"
        out += "lock-serial \(runLockSerial ?? "none")\n"
        if let runLock { out += "lock \(runLockHolderAlive ? "held" : "stale") \(runLock)\n" }
        let lines = script.split(separator: "\n").map(String.init)
        // Only this family's branch of `case $cct_family in … esac` runs.
        let branch = lines.drop { $0 != ShellQuote.quote(family) + ")" }.dropFirst().prefix { $0 != ";;" }
        for line in branch {
            if line.hasPrefix(PackageFacts.loopPrefix), let end = line.range(of: "; do ") {
                for package in Self.shellWords(String(line.dropFirst(PackageFacts.loopPrefix.count)[..<end.lowerBound])) {
                    out += "package \(package) \(installed.contains(package) ? "installed" : "absent")\n"
                }
            } else if let service = line.range(of: "/S[0-9][0-9]").map({ unquote(String(line[$0.upperBound...].prefix { $0 != ";" })) })
                        ?? word(after: "if systemctl is-enabled --quiet ", in: line) {
                let state = services[service] ?? Service()
                out += "service \(service) \(state.enabled ? "enabled" : "disabled") \(state.running ? "running" : "stopped")\n"
            } else if line.hasPrefix("if command -v getenforce") {
                out += "selinux \(selinuxMode)\n"
            } else if let boolean = word(after: "case $(getsebool ", in: line) {
                out += "sebool \(boolean) \(selinuxBooleansOn.contains(boolean) ? "on" : "off")\n"
            } else if line.hasPrefix("f=") {
                let path = unquote(String(line.dropFirst(2)))
                if let file = files[path] {
                    out += "file present \(String(file.mode, radix: 8)) \(file.owner) \(file.group) \(path)\nbegin-content\n"
                    for chunk in stride(from: 0, to: file.contents.count, by: 16) {
                        out += file.contents[chunk..<min(chunk + 16, file.contents.count)]
                            .map { " " + ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() + "\n"
                    }
                    out += "end-content\n"
                } else {
                    out += "file absent \(path)\n"
                }
            }
        }
        if branch.contains("  echo begin-iptables") {
            out += "begin-iptables\n" + hex(Array(filterTable.save.utf8)) + "end-iptables\n"
            if ufwActive { out += "ufw active\n" }
        }
        return Array((out + "end-facts\n").utf8)
    }

    private func hex(_ bytes: [UInt8]) -> String {
        stride(from: 0, to: bytes.count, by: 16).map { chunk in
            bytes[chunk..<min(chunk + 16, bytes.count)].map { " " + ($0 < 16 ? "0" : "") + String($0, radix: 16) }
                .joined() + "\n"
        }.joined()
    }

    /// The apply script (snapshot, arm, and the change, which a real host runs a second later), the check
    /// script run over a new connection (report, disarm) and the save.
    private func firewallCommand(_ command: String, stdin: [UInt8]) -> CommandResult? {
        // Both refuse while an earlier apply's rollback is armed (`FirewallScripts.pendingRollbackCheck`).
        let pending = CommandResult(stderr: Array("a firewall rollback ... is still pending\n".utf8),
                                    exitStatus: FirewallScripts.Exit.pendingRollback.rawValue)
        if command.contains(FirewallScripts.armedMarker) {
            if armedRollback != nil { return pending }
            armedRollback = filterTable
            firewallChangeStatus = filterTable.restore(String(decoding: stdin, as: UTF8.self), noflush: true) ? 0 : 1
            if firewallChangeStatus == 1 { armedRollback = nil }
            return CommandResult(stdout: Array("\(FirewallScripts.armedMarker) 4242\n".utf8))
        }
        if command.hasPrefix(FirewallScripts.directMarker + "\n") {
            if armedRollback != nil { return pending }
            guard filterTable.restore(String(decoding: stdin, as: UTF8.self), noflush: true) else {
                return CommandResult(stdout: Array("\(FirewallScripts.statusMarker) 1\n\(filterTable.save)".utf8),
                                     stderr: Array("iptables-restore: line 3 failed\n".utf8))
            }
            return CommandResult(stdout: Array("\(save(command))\(FirewallScripts.statusMarker) 0\n\(filterTable.save)".utf8))
        }
        if command.hasPrefix(FirewallScripts.checkMarker + "\n") {
            if checksBeforeTheChangeRuns > 0 {
                checksBeforeTheChangeRuns -= 1
                return CommandResult(exitStatus: FirewallScripts.Exit.changeNotYetRun.rawValue)
            }
            guard let status = firewallChangeStatus else {
                return CommandResult(exitStatus: FirewallScripts.Exit.changeNotYetRun.rawValue)
            }
            var saved = ""
            if status == 0 {
                guard armedRollback != nil else { return CommandResult(exitStatus: FirewallScripts.Exit.rollbackRan.rawValue) }
                armedRollback = nil
                saved = save(command)
            }
            return CommandResult(stdout: Array("\(saved)\(FirewallScripts.statusMarker) \(status)\n\(filterTable.save)".utf8),
                                 stderr: status == 0 ? [] : Array("iptables-restore: line 3 failed\n".utf8))
        }
        return nil
    }

    /// The save a firewall script runs (its family's `firewallPersistCommand`): logged as a command of its own
    /// (as the host's process list would show it), failing like one. Returns the script's `savedMarker` line.
    private func save(_ script: String) -> String {
        guard let persist = OSFamilies.all.map(\.firewallPersistCommand).first(where: { script.contains("{ \($0); }") })
        else { return "" }
        commands.append(persist)
        let failed = failingCommands.contains(where: persist.contains)
        if !failed { savedFirewall = filterTable.save }
        return "\(FirewallScripts.savedMarker) \(failed ? 1 : 0)\n"
    }

    private func word(after prefix: String, in line: String) -> String? {
        guard line.hasPrefix(prefix) else { return nil }
        return unquote(String(line.dropFirst(prefix.count).prefix { $0 != " " }))
    }

    private func unquote(_ s: String) -> String {
        s.hasPrefix("'") && s.hasSuffix("'") && s.count >= 2 ? String(s.dropFirst().dropLast()) : s
    }

    // MARK: commands

    private func execute(_ command: String) -> CommandResult {
        let words = command.split(separator: " ").map { unquote(String($0)) }
        switch (words.first, words.dropFirst().first) {
        case ("yum", _) where words.count >= 4 && words[1] == "-y" && words[2] == "install",
             ("dnf", _) where words.count >= 4 && words[1] == "-y" && words[2] == "install",
             ("apt-get", "install"):
            for package in words[(words[0] == "apt-get" ? 2 : 3)...] where !unavailablePackages.contains(package) {
                installed.insert(package)
                for (path, contents) in packageFiles[package] ?? [:] where files[path] == nil {
                    files[path] = RemoteFile(contents: Array(contents.utf8), mode: 0o644, owner: "root", group: "root")
                }
            }
        case ("setsebool", "-P") where words.count == 4 && words[3] == "on":
            selinuxBooleansOn.insert(words[2])
        case ("chkconfig", _) where words.count == 3 && words[2] == "on":
            services[words[1], default: Service()].enabled = true
        case ("systemctl", "enable") where words.count == 3:
            services[words[2], default: Service()].enabled = true
        case ("service", _) where words.count == 3 && ["start", "restart"].contains(words[2]),
             ("systemctl", _) where words.count == 3 && ["start", "restart"].contains(words[1]):
            let service = words[0] == "service" ? words[1] : words[2]
            guard installed.contains(service) else {
                return CommandResult(stderr: Array("\(service): unrecognized service\n".utf8), exitStatus: 1)
            }
            services[service, default: Service()].running = true
        case ("rpm", "-q"):
            let missing = words.dropFirst(2).filter { !installed.contains($0) }
            return CommandResult(stdout: Array(missing.map { "package \($0) is not installed\n" }.joined().utf8),
                                 exitStatus: Int32(missing.count))
        case ("mkdir", "-p"):
            break
        default:
            return CommandResult(stderr: Array("InMemoryTransport: unknown command: \(command)\n".utf8), exitStatus: 127)
        }
        return CommandResult()
    }

    /// `{ chown O:G TMP && chmod MODE TMP && if [ -f F ]; then cp -p F F.bak; fi && mv -f TMP F && rm -f STALE*; } || ...`
    private func commitFile(_ words: [String]) -> CommandResult {
        func after(_ word: String, _ offset: Int = 1) -> String? {
            words.firstIndex(of: word).flatMap { $0 + offset < words.count ? words[$0 + offset] : nil }
        }
        guard let ownerGroup = after("chown"), let modeText = after("chmod"), let mode = Int32(modeText, radix: 8),
              let temporary = after("mv", 2), let target = after("mv", 3)?.replacingOccurrences(of: ";", with: ""),
              var file = files[temporary] else {
            return CommandResult(stderr: Array("InMemoryTransport: bad commit command\n".utf8), exitStatus: 1)
        }
        let parts = ownerGroup.split(separator: ":").map(String.init)
        file.owner = parts.first ?? "root"
        file.group = parts.last ?? "root"
        file.mode = mode
        if let previous = files[target] { files[target + RemoteFileWriter.backupSuffix] = previous }
        files[target] = file
        files[temporary] = nil
        // `rm -f PREFIX*` after the mv: stale temporary files of the same target.
        if let pattern = after("rm", 2)?.replacingOccurrences(of: ";", with: ""), pattern.hasSuffix("*") {
            let prefix = unquote(String(pattern.dropLast()))
            for path in files.keys where path.hasPrefix(prefix) { files[path] = nil }
        }
        return CommandResult()
    }
}

public actor CommandJournal {
    public private(set) var entries: [String] = []
    public init() {}
    public func append(_ entry: String) { entries.append(entry) }
    public func index(of entry: String) -> Int? { entries.firstIndex(of: entry) }
}

public struct InMemoryTransportError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
