/// Executes one host's changes in phase order: repository (EPEL) → packages → files → enable → firewall →
/// start/restart.
/// Stops at the first failure on this host (later steps depend on earlier ones); other hosts are unaffected.
public struct HostApplier: Sendable {
    /// After how long a firewall change rolls itself back unless a new connection disarms it.
    public var firewallRollbackSeconds: Int
    public var firewallTiming: FirewallTiming
    /// Told when each step starts, finishes or fails (progress output); ignores everything by default.
    public var events: ApplyEventSink
    /// Once requested, no further step starts (the running one finishes).
    public var interruption: ApplyInterruption?

    public static let defaultFirewallRollbackSeconds = 30

    public init(firewallRollbackSeconds: Int = HostApplier.defaultFirewallRollbackSeconds,
                firewallTiming: FirewallTiming = .standard, events: @escaping ApplyEventSink = { _ in },
                interruption: ApplyInterruption? = nil) {
        self.firewallRollbackSeconds = firewallRollbackSeconds
        self.firewallTiming = firewallTiming
        self.events = events
        self.interruption = interruption
    }

    public struct Result: Sendable, Equatable {
        public var applied: Int
        public var error: ApplyError?
        /// One entry per change carried out or failed, for the host's journal.
        public var journal: [RunJournal.Entry] = []
        /// Steps left out because the apply was interrupted (empty otherwise).
        public var notRun: [String] = []
    }

    /// `beforeServices` is awaited before the first start/restart: web hosts wait there for the memcache
    /// hosts to converge. `reconnect` opens a new connection to the host (the firewall step needs one).
    /// `family`: the host's (its package manager, service manager and firewall persistence run the changes).
    public func apply(_ changes: [Change], family: OSFamily, transport: HostTransport, hostName: String,
                      reconnect: Reconnector? = nil,
                      beforeServices: @Sendable () async -> Void) async -> Result {
        let ordered = ApplyPhase.allCases.flatMap { phase in changes.filter { $0.phase == phase } }
        var applied = 0
        var installedPackages = false
        // The files to edit as the last install left them, read by that install's exec (`installCommand`).
        var filesAfterInstall: HostFacts?
        var waitedForServices = false
        var index = 0
        var step = "apply"
        var stepStart = ContinuousClock.now
        var journal: [RunJournal.Entry] = []
        var notRun: [String] = []
        // Reported when a step is done; the step's own error reports failures (see the catch below).
        func finished(_ batch: [Change]) {
            // A yum transaction of several packages is one step but one journal line per package.
            journal += batch.count > 1 || batch.first?.kind == .installPackage
                ? batch.map { RunJournal.Entry(what: "install \($0.package ?? "?")", ok: true) }
                : [RunJournal.Entry(what: step, ok: true)]
            let elapsed = ContinuousClock.now - stepStart
            events(.stepFinished(host: hostName, step: step,
                                 seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
        }
        do {
            while index < ordered.count {
                let change = ordered[index]
                // Web hosts wait here for the memcache hosts, before their step starts (its time is its own).
                if (change.kind == .startService || change.kind == .restartService) && !waitedForServices {
                    await beforeServices()
                    waitedForServices = true
                }
                if interruption?.isRequested == true {
                    notRun = Self.stepNames(Array(ordered[index...]))
                    break
                }
                let batch = Self.batch(ordered, at: index)
                step = Self.stepName(batch)
                stepStart = .now
                events(.stepStarted(host: hostName, step: step))
                switch change.kind {
                case .installPackage:
                    let packages = batch.compactMap(\.package)
                    let step = "install \(packages.joined(separator: " "))"
                    let (command, reread) = installCommand(packages, then: ordered[(index + batch.count)...], family: family)
                    do {
                        let result = try await ApplyCommand.run(command, on: transport, step: step)
                        if let reread {
                            guard let report = FactsScript.refreshedFacts(result.stdout) else {
                                throw ApplyError(step: step, message: "installed, but the files to edit were not reported")
                            }
                            do {
                                filesAfterInstall = try FactsParser.parse(report, host: hostName,
                                                                          candidates: [FactsCandidate(family: family, query: reread)])
                            } catch {
                                throw ApplyError(step: step, message: "installed, but reading the files to edit failed: \(error)")
                            }
                        }
                    } catch var error as ApplyError {
                        // A repository clusterctl does not enable by itself: say which, and how.
                        let hints = packages.compactMap { family.installHints[$0] }
                        if !hints.isEmpty { error.message += "; " + hints.joined(separator: "; ") }
                        throw error
                    }
                    installedPackages = true
                    applied += batch.count
                    index += batch.count
                    finished(batch)
                    continue
                case .writeFile:
                    guard var file = change.file else { throw ApplyError(step: "write", message: "change without file") }
                    if installedPackages, let settings = file.editSettings {
                        // Packages just installed may have created or replaced the file the plan saw.
                        // The last install read every file the steps after it edit, this one too (files come
                        // after all packages).
                        guard let current = filesAfterInstall else {
                            throw ApplyError(step: "write \(file.path)", message: "the file was not read after the install")
                        }
                        guard let refreshed = reEdit(file, settings: settings, current: current) else {
                            break   // already as desired: counted as done below
                        }
                        file = refreshed
                    }
                    try await RemoteFileWriter.write(file, transport: transport)
                case .replaceFirewallChain:
                    guard let firewall = change.firewall else {
                        throw ApplyError(step: "firewall", message: "change without firewall rules")
                    }
                    try await FirewallApplier(family: family, rollbackSeconds: firewallRollbackSeconds, timing: firewallTiming)
                        .apply(firewall, transport: transport, reconnect: reconnect)
                case .configureFirewalld:
                    guard let firewalld = change.firewalld else {
                        throw ApplyError(step: "firewalld", message: "change without firewalld operations")
                    }
                    try await FirewalldApplier(rollbackSeconds: firewallRollbackSeconds)
                        .apply(firewalld, transport: transport, reconnect: reconnect)
                case .setSELinuxBoolean, .labelSELinuxPort:
                    guard let command = SELinuxStep.command(for: change) else {
                        throw ApplyError(step: "selinux", message: "change without an SELinux setting")
                    }
                    try await ApplyCommand.run(command, on: transport, step: "selinux \(change.selinux ?? "")")
                case .enableService:
                    let service = try name(change)
                    try await ApplyCommand.run(family.serviceManager.enableCommand(service), on: transport,
                                               step: "enable \(service)")
                case .startService, .restartService:
                    let service = try name(change)
                    // A service planned as stopped may have been started by its package just now (Debian's
                    // postinst does), with the package's config rather than the one written since: restart it.
                    let restart = change.kind == .restartService || (installedPackages && family.packagesStartServices)
                    let services = family.serviceManager
                    try await ApplyCommand.run(restart ? services.restartCommand(service) : services.startCommand(service),
                                               on: transport, step: "\(change.kind == .restartService ? "restart" : "start") \(service)")
                }
                applied += 1
                index += 1
                finished([change])
            }
        } catch let error as ApplyError {
            events(.stepFailed(host: hostName, step: step, message: error.message))
            journal.append(RunJournal.Entry(what: step, ok: false, message: error.message))
            return Result(applied: applied, error: error, journal: journal)
        } catch {
            events(.stepFailed(host: hostName, step: step, message: String(describing: error)))
            journal.append(RunJournal.Entry(what: step, ok: false, message: String(describing: error)))
            return Result(applied: applied, error: ApplyError(step: "apply", message: String(describing: error)),
                          journal: journal)
        }
        return Result(applied: applied, error: nil, journal: journal, notRun: notRun)
    }

    /// The steps `changes` would run, in order, as progress names them (a phase's packages are one step).
    public static func stepNames(_ changes: [Change]) -> [String] {
        let ordered = ApplyPhase.allCases.flatMap { phase in changes.filter { $0.phase == phase } }
        var names: [String] = []
        var index = 0
        while index < ordered.count {
            let batch = batch(ordered, at: index)
            names.append(stepName(batch))
            index += batch.count
        }
        return names
    }

    /// The changes one step carries out from `index` on: one yum transaction per phase (EPEL must be installed
    /// before yum can see memcached), any other change alone.
    static func batch(_ ordered: [Change], at index: Int) -> [Change] {
        let change = ordered[index]
        return change.kind == .installPackage
            ? Array(ordered[index...].prefix { $0.kind == .installPackage && $0.phase == change.phase }) : [change]
    }

    /// How progress names a step: the words its failure would use.
    static func stepName(_ batch: [Change]) -> String {
        guard let change = batch.first else { return "apply" }
        switch change.kind {
        case .installPackage: return "install " + batch.compactMap(\.package).joined(separator: " ")
        case .writeFile: return "write \(change.file?.path ?? "?")"
        case .replaceFirewallChain: return "firewall chain \(change.firewall?.chain ?? "?")"
        case .configureFirewalld: return "firewalld zone \(change.firewalld?.zone ?? "?")"
        case .setSELinuxBoolean, .labelSELinuxPort: return "selinux \(change.selinux ?? "?")"
        case .enableService: return "enable \(change.service ?? "?")"
        case .startService: return "start \(change.service ?? "?")"
        case .restartService: return "restart \(change.service ?? "?")"
        }
    }

    private func name(_ change: Change) throws -> String {
        guard let service = change.service else { throw ApplyError(step: change.kind.rawValue, message: "no service") }
        return service
    }

    /// The install command of `packages`; when no install follows (`rest`), it also reads the files the rest
    /// edits (packages may just have created or replaced them), returning the query it asks.
    private func installCommand(_ packages: [String], then rest: ArraySlice<Change>,
                                family: OSFamily) -> (command: String, reread: FactsQuery?) {
        let install = family.packageManager.installCommand(packages)
        let edited = rest.filter { $0.kind == .writeFile && $0.file?.editSettings != nil }.compactMap(\.file?.path)
        guard !edited.isEmpty, !rest.contains(where: { $0.kind == .installPackage }) else { return (install, nil) }
        let query = FactsQuery(packages: [], services: [], files: edited, firewall: false)
        return (FactsScript.followedByRefresh(install, query: query, family: family), query)
    }

    /// The edit recomputed against the file as `facts` (read after the install) show it; nil when it already
    /// has the settings.
    private func reEdit(_ file: FileChange, settings: [IniSetting], current facts: HostFacts) -> FileChange? {
        let current = facts.files[file.path]
        let format = file.editFormat ?? .phpIni
        // An override layer the packages did not create overrides nothing: there is nothing to edit.
        if current == nil && !format.createsMissing { return nil }
        let edited = SettingsEditor.edit(current?.contents ?? [], settings: settings.map(\.phpIniSetting), format: format)
        if let current, current.contents == edited { return nil }
        var refreshed = file
        refreshed.exists = current != nil
        refreshed.newContents = edited
        if let current { (refreshed.mode, refreshed.owner, refreshed.group) = (current.mode, current.owner, current.group) }
        return refreshed
    }
}
