/// Recomputes a host's changes from facts gathered under its run lock (the host changed since it was
/// planned, e.g. another apply converged it meanwhile); nil for saved plans, which are refused instead.
public typealias Replanner = @Sendable (HostPlan, HostFacts) throws -> [Change]

/// Applies a plan to all its hosts: in parallel (bounded), each host independent of the others' failures,
/// memcache hosts converging before any web host starts or restarts a service. Each host with changes is
/// locked for the run (`HostRunLock`), its facts re-read under the lock, and its journal written at its end.
public struct ClusterApplier: Sendable {
    public var parallel: Int
    public var firewallRollbackSeconds: Int
    public var firewallTiming: FirewallTiming
    /// Progress: each host's start and end, and every step in between (see `ApplyEvent`); none by default.
    public var events: ApplyEventSink
    public var runLock: HostRunLock
    public var interruption: ApplyInterruption
    public var replan: Replanner?

    public init(parallel: Int,
                firewallRollbackSeconds: Int = HostApplier.defaultFirewallRollbackSeconds,
                firewallTiming: FirewallTiming = .standard,
                events: @escaping ApplyEventSink = { _ in },
                runLock: HostRunLock = HostRunLock(identity: RunIdentity(user: "test", controllerHost: "localhost",
                                                                          pid: 0, command: "clusterctl apply")),
                interruption: ApplyInterruption = ApplyInterruption(), replan: Replanner? = nil) {
        self.parallel = parallel
        self.firewallRollbackSeconds = firewallRollbackSeconds
        self.firewallTiming = firewallTiming
        self.events = events
        self.runLock = runLock
        self.interruption = interruption
        self.replan = replan
    }

    /// `checkFingerprints`: for saved plans, re-gather each host's facts and refuse the host when its
    /// fingerprint differs from the one in the plan (the plan would be applied to a state it was not made for).
    public func apply(_ plan: Plan, pool: ConnectionPool, checkFingerprints: Bool) async -> ApplyRecap {
        let isMemcache: @Sendable (HostPlan) -> Bool = { $0.host.roles.contains(.memcache) }
        // Memcache hosts first: BoundedParallel starts items in order, so no web host can hold a slot while a
        // memcache host it waits for has none (no deadlock at --parallel 1).
        let order = plan.hosts.indices.filter { isMemcache(plan.hosts[$0]) }
            + plan.hosts.indices.filter { !isMemcache(plan.hosts[$0]) }
        let gate = ConvergenceGate(count: order.filter { isMemcache(plan.hosts[$0]) }.count)
        let hostApplier = HostApplier(firewallRollbackSeconds: firewallRollbackSeconds,
                                      firewallTiming: firewallTiming, events: events, interruption: interruption)
        let events = self.events, context = HostContext(pool: pool, checkFingerprints: checkFingerprints,
                                                        applier: hostApplier, runLock: runLock, replan: replan)

        let outcomes = await BoundedParallel.map(order, limit: parallel) { index -> HostOutcome in
            let hostPlan = plan.hosts[index]
            let memcache = isMemcache(hostPlan)
            events(.hostStarted(host: hostPlan.host.name))
            let outcome = await Self.applyHost(hostPlan, context,
                                               beforeServices: { if !memcache { await gate.wait() } })
            if memcache { await gate.arrive() }
            events(.hostFinished(outcome))
            return outcome
        }
        let byName = Dictionary(uniqueKeysWithValues: outcomes.map { ($0.host, $0) })
        return ApplyRecap(outcomes: plan.hosts.compactMap { byName[$0.host.name] })
    }

    /// What every host's apply shares.
    struct HostContext: Sendable {
        var pool: ConnectionPool
        var checkFingerprints: Bool
        var applier: HostApplier
        var runLock: HostRunLock
        var replan: Replanner?
    }

    private static func applyHost(_ hostPlan: HostPlan, _ context: HostContext,
                                  beforeServices: @escaping @Sendable () async -> Void) async -> HostOutcome {
        let name = hostPlan.host.name
        if let error = hostPlan.error { return .failed(name, error) }
        guard let family = hostPlan.family else { return .failed(name, "the plan does not say which OS the host runs") }
        let allSteps = HostApplier.stepNames(hostPlan.changes)
        if context.applier.interruption?.isRequested == true, !hostPlan.changes.isEmpty {
            return HostOutcome(host: name, status: .interrupted, applied: 0, message: nil, notRun: allSteps)
        }
        let transport: HostTransport
        do {
            transport = try await context.pool.transport(for: hostPlan.host)
            if hostPlan.changes.isEmpty {
                // Nothing to change: no lock, no journal; a saved plan is still checked against the host.
                if context.checkFingerprints {
                    let facts = try await FactsGatherer.gather(host: name, query: hostPlan.query, family: family,
                                                               transport: transport)
                    if let stale = staleness(hostPlan, facts) { return .failed(name, stale) }
                }
                return HostOutcome(host: name, status: .ok, applied: 0, message: nil)
            }
        } catch {
            return .failed(name, String(describing: error))
        }

        // Lock, remove temporary files left by killed runs, and re-read the facts unless no run took the lock
        // since they were read: one exec.
        let lock = context.runLock, events = context.applier.events
        var changes = hostPlan.changes
        var journal: [RunJournal.Entry] = []
        do {
            let facts: HostFacts?
            (facts, journal) = try await lockAndRecheck(hostPlan, family: family, transport: transport, lock: lock,
                                                        mayReuseFacts: !context.checkFingerprints,
                                                        interruption: context.applier.interruption, events: events)
            if let facts, let stale = staleness(hostPlan, facts) {
                guard !context.checkFingerprints, let replan = context.replan else {
                    try? await lock.release(transport: transport, journal: journal)
                    return .failed(name, stale)
                }
                // Planned before another run changed it (typically: that run held the lock meanwhile).
                changes = try replan(hostPlan, facts)
            }
        } catch is ApplyInterrupted {
            return HostOutcome(host: name, status: .interrupted, applied: 0, message: nil, notRun: allSteps)
        } catch {
            if !(error is RunLockHeld) { try? await lock.release(transport: transport, journal: journal) }
            return .failed(name, String(describing: error))
        }
        if changes.isEmpty {
            let released = await release(lock, transport: transport, journal: journal)
            return HostOutcome(host: name, status: .ok, applied: 0, message: released)
        }

        let host = hostPlan.host
        let result = await context.applier.apply(changes, family: family, transport: transport, hostName: name,
                                                 reconnect: { try await context.pool.freshConnection(to: host) },
                                                 beforeServices: beforeServices)
        let releaseProblem = await release(lock, transport: transport, journal: journal + result.journal)
        if let error = result.error {
            return HostOutcome(host: name, status: .failed, applied: result.applied,
                               message: error.description + (releaseProblem.map { "; \($0)" } ?? ""))
        }
        return HostOutcome(host: name, status: result.notRun.isEmpty ? .changed : .interrupted, applied: result.applied,
                           message: releaseProblem, notRun: result.notRun)
    }

    /// Takes the host's lock; in the same exec removes the temporary files of every managed file's directory
    /// (`RemoteFileWriter`: a killed run's leftovers; nobody else writes them while we hold the lock) and
    /// gathers the facts the plan was made from — unless `mayReuseFacts` and the lock's serial is still the one the
    /// plan's facts read (`HostPlan.lockSerial`): then no clusterctl run took the lock since, and the facts are
    /// nil. Returns them with the journal entries of what was cleaned up.
    private static func lockAndRecheck(_ hostPlan: HostPlan, family: OSFamily, transport: HostTransport,
                                       lock: HostRunLock, mayReuseFacts: Bool, interruption: ApplyInterruption?,
                                       events: ApplyEventSink) async throws -> (HostFacts?, [RunJournal.Entry]) {
        let name = hostPlan.host.name
        let candidates = [FactsCandidate(family: family, query: hostPlan.query)]
        let cleanup = hostPlan.query.files.map { path in
            "for f in \(ShellQuote.quote(RemoteFileWriter.temporaryPrefix(for: path)))*; do "
                + "[ -f \"$f\" ] && rm -f \"$f\" && echo \"removed-temporary $f\"; done"
        }
        var waitStep: String?
        let waitStart = ContinuousClock.now
        let acquired: HostRunLock.Acquired
        do {
            // The same cleanup, run by the host itself if this run is aborted while it holds the lock.
            let quietCleanup = hostPlan.query.files.map(RemoteFileWriter.removeTemporariesCommand(for:))
            acquired = try await lock.acquire(host: name, transport: transport, then: cleanup.joined(separator: "\n"),
                                              recheck: FactsScript.script(for: candidates),
                                              skipRecheckIfSerial: mayReuseFacts ? hostPlan.lockSerial : nil,
                                              whenHolderGone: quietCleanup.joined(separator: "\n"),
                                              interruption: interruption) { holder in
                waitStep = "wait for the run lock held by " + (holder.map(\.description) ?? "another run")
                events(.stepStarted(host: name, step: waitStep!))
            }
        } catch {
            if let waitStep { events(.stepFailed(host: name, step: waitStep, message: String(describing: error))) }
            throw error
        }
        if let waitStep {
            let waited = ContinuousClock.now - waitStart
            events(.stepFinished(host: name, step: waitStep, seconds: Double(waited.components.seconds)
                                    + Double(waited.components.attoseconds) / 1e18))
        }
        var journal: [RunJournal.Entry] = []
        if let old = acquired.tookOver {
            journal.append(RunJournal.Entry(what: "take over the stale run lock \(old.id) of \(old.who) (its SSH session is gone)", ok: true))
        }
        var factsOutput: [UInt8] = []
        for line in acquired.output.split(separator: 10, omittingEmptySubsequences: false) {
            if line.starts(with: Array("removed-temporary ".utf8)) {
                journal.append(RunJournal.Entry(what: "remove " + String(decoding: line.dropFirst(18), as: UTF8.self), ok: true))
            } else {
                factsOutput += line + [10]
            }
        }
        if !factsOutput.isEmpty { factsOutput.removeLast() }
        guard acquired.succeeded else {
            throw FactsError(host: name, message: "facts script failed under the run lock: \(acquired.stderr)")
        }
        if acquired.recheckSkipped { return (nil, journal) }
        let facts = try FactsParser.parse(factsOutput, host: name, candidates: candidates)
        guard facts.family == family.key else {
            throw FamilyMismatch(host: name, found: facts.osRelease, foundFamily: facts.family, expected: [family.key])
        }
        return (facts, journal)
    }

    /// Why the facts no longer match the plan (nil when they do).
    private static func staleness(_ hostPlan: HostPlan, _ facts: HostFacts) -> String? {
        guard facts.fingerprint != hostPlan.fingerprint else { return nil }
        return "stale plan: the host's facts changed since the plan was made "
            + "(fingerprint \(short(hostPlan.fingerprint)) → \(short(facts.fingerprint))); nothing applied, run plan again"
    }

    /// Releases the lock; a problem doing so is returned for the recap (the lock is then stale once this
    /// run's connection closes, and the next apply takes it over).
    private static func release(_ lock: HostRunLock, transport: HostTransport, journal: [RunJournal.Entry]) async -> String? {
        do {
            try await lock.release(transport: transport, journal: journal)
            return nil
        } catch {
            return "the run lock and journal could not be written (\(error)); the next apply takes the lock over"
        }
    }

    private static func short(_ fingerprint: String?) -> String { String((fingerprint ?? "none").prefix(12)) }
}

/// Opens once `count` hosts have arrived (succeeded or failed: a failed memcache host must not hold the
/// web hosts back forever).
actor ConvergenceGate {
    private var remaining: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(count: Int) {
        remaining = count
    }

    func arrive() {
        remaining -= 1
        if remaining <= 0 {
            for waiter in waiters { waiter.resume() }
            waiters = []
        }
    }

    func wait() async {
        if remaining <= 0 { return }
        await withCheckedContinuation { waiters.append($0) }
    }
}
