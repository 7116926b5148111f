import ArgumentParser
import ClusterKit
import Foundation

/// `clusterctl apply -i FILE` (plan, confirm, apply) or `clusterctl apply PLAN.json` (a saved plan, refused
/// on every host whose facts changed since it was made).
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Converge the hosts: plan, confirm, then apply (or apply a saved plan).",
        discussion: """
            Steps run per host in order EPEL, packages, files (atomic, with a FILE.clusterctl-bak backup), \
            enable, start/restart; memcache hosts converge before web hosts start or restart services. \
            Hosts run in parallel; one failing host does not stop the others. Exits 1 if any host failed. \
            Without a terminal on stdin, --yes is required. A firewall change arms a rollback on the host first \
            and must be confirmed over a new SSH connection; otherwise the host restores its previous rules \
            after --firewall-rollback-seconds and is reported failed. \
            --serial N: a rolling apply (memcache hosts whose memcached restarts one at a time when \
            php.sessionRedundancy > 1, cut off and refilled from the others; then web hosts N at a time, each \
            batch checked over HTTP before the next; a failing batch stops the run). \
            Progress: on a terminal one live line per host; otherwise one timestamped line per finished step. \
            --json prints newline-delimited events on stdout (docs/events-json.md) and the text on stderr. \
            Each host with changes is locked for the run (/var/lib/clusterctl/run.lock): a host another apply \
            holds fails at once, or after waiting up to --lock-timeout; a lock whose holder's SSH session is \
            gone is taken over. Every change is recorded on its host in /var/log/clusterctl.log. \
            The first Ctrl-C (or SIGTERM) starts no new step, lets running steps finish, releases the locks and \
            prints the recap with what did not run (exit 130); a second one exits at once.
            """
    )

    @Argument(help: ArgumentHelp("A plan saved by `clusterctl plan --out FILE` (then -i is not read).", valueName: "saved-plan"),
              completion: .file(extensions: ["json"]))
    var savedPlan: String?

    @OptionGroup var inventoryOption: InventoryOption
    @OptionGroup var planning: PlanningOptions

    @Flag(help: "Apply without asking for confirmation.")
    var yes = false

    @Option(name: .customLong("firewall-rollback-seconds"),
            help: ArgumentHelp("Seconds after which a host restores its previous firewall rules unless a new SSH connection made after the change confirms it (5-3600).", valueName: "seconds"))
    var firewallRollbackSeconds: Int = HostApplier.defaultFirewallRollbackSeconds

    @Option(help: ArgumentHelp("Rolling apply: restart the web hosts that need it N at a time, each batch only once the previous one serves PHP with the new settings over HTTP; memcache hosts restart one at a time when php.sessionRedundancy > 1. A failing batch stops the run.", valueName: "n"))
    var serial: Int?

    @Option(name: .customLong("lock-timeout"),
            help: ArgumentHelp("How long to wait for a host's run lock held by another apply, e.g. 30s, 5m (default 0: fail at once).", valueName: "duration"))
    var lockTimeout = LockTimeout(seconds: 0)

    @OptionGroup var outputOptions: OutputOptions

    @Flag(help: "Print progress as newline-delimited JSON events on stdout (docs/events-json.md); text goes to stderr.")
    var json = false

    func validate() throws {
        // Below 5 s the rollback could fire before the change (1 s after arming) has been checked.
        guard (5...3600).contains(firewallRollbackSeconds) else {
            throw ValidationError("--firewall-rollback-seconds must be between 5 and 3600, not \(firewallRollbackSeconds)")
        }
        if let serial, serial < 1 { throw ValidationError("--serial must be at least 1, not \(serial)") }
    }

    func run() async throws {
        guard yes || isatty(STDIN_FILENO) == 1 else {
            Console.error("apply: confirmation needed but stdin is not a terminal; pass --yes to apply without asking. "
                          + "Nothing was changed.")
            throw ExitCode.failure
        }
        let output = try RunOutput.make(outputOptions, jsonEvents: json, command: "apply")
        let signals = ApplySignals(first: { output.interrupted(signal: $0) },
                                   abort: { output.aborted(signal: $0, beforeApplying: $1 != .applying) })
        defer { signals.stop() }
        let pool = PlanningOptions.sshPool(output: output)
        var plan: Plan
        var replan: Replanner?
        if let savedPlan {
            plan = try loadSavedPlan(savedPlan)
        } else {
            (plan, replan) = try await planning.makePlanAndReplanner(inventoryOption: inventoryOption, pool: pool)
        }
        output.events?.planSummary(plan.summary)
        let needsConfirmation = plan.hasChanges || plan.summary.failedHosts > 0
        // -q hides the plan only when nobody is asked to approve it.
        output.show(PlanTextRenderer.render(plan), painter: output.colors.plan, evenQuiet: needsConfirmation && !yes)
        if needsConfirmation && !yes && !signals.interruption.isRequested {
            signals.enter(.confirming)
            output.show("\nApply these changes? Only 'yes' is accepted: ", evenQuiet: true)
            guard readLine()?.trimmingCharacters(in: .whitespaces) == "yes" else {
                output.show("Apply cancelled. Nothing was changed.\n", evenQuiet: true)
                await pool.closeAll()
                throw ExitCode.failure
            }
            plan.requireRecheckUnderLock()
        }
        signals.enter(.applying)
        output.show("\n")
        output.beginApply(hosts: plan.hosts.map(\.host.name))
        let runLock = HostRunLock(identity: RunIdentity.current(), timeout: .seconds(lockTimeout.seconds))
        let applier = ClusterApplier(parallel: planning.parallel, firewallRollbackSeconds: firewallRollbackSeconds,
                                     events: output.handle, runLock: runLock,
                                     interruption: signals.interruption, replan: replan)
        let recap = if let serial {
            await RollingApplier(applier: applier, batchSize: serial).apply(plan, pool: pool, checkFingerprints: savedPlan != nil)
        } else {
            await applier.apply(plan, pool: pool, checkFingerprints: savedPlan != nil)
        }
        await pool.closeAll()
        output.endApply(recap)
        if signals.interruption.isRequested { throw ExitCode(130) }
        if recap.failed { throw ExitCode.failure }
    }

    private func loadSavedPlan(_ path: String) throws -> Plan {
        do {
            let document = try PlanDocument.load(path: path)
            var plan = document.plan
            if let limit = planning.hostLimit {
                let selected = Set(try limit.select(plan.hosts.map(\.host)).map(\.name))
                plan.hosts = plan.hosts.filter { selected.contains($0.host.name) }
            }
            return plan
        } catch {
            Console.error("\(error)")
            Console.error("Nothing was changed on any host. Next: make a new plan with `clusterctl plan -i INVENTORY --out \(path)` "
                          + "(or apply straight from the inventory with `clusterctl apply -i INVENTORY`)")
            throw ExitCode.failure
        }
    }
}
