/// Applies a plan to all its hosts: in parallel (bounded), each host independent of the others' failures,
/// memcache hosts converging before any web host starts or restarts a service.
public struct ClusterApplier: Sendable {
    public var parallel: Int
    public var firewallRollbackSeconds: Int
    public var firewallTiming: FirewallTiming
    /// Progress: each host's start and end, and every step in between (see `ApplyEvent`); none by default.
    public var events: ApplyEventSink

    public init(parallel: Int,
                firewallRollbackSeconds: Int = HostApplier.defaultFirewallRollbackSeconds,
                firewallTiming: FirewallTiming = .standard,
                events: @escaping ApplyEventSink = { _ in }) {
        self.parallel = parallel
        self.firewallRollbackSeconds = firewallRollbackSeconds
        self.firewallTiming = firewallTiming
        self.events = events
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
                                      firewallTiming: firewallTiming, events: events)
        let events = self.events

        let outcomes = await BoundedParallel.map(order, limit: parallel) { index -> HostOutcome in
            let hostPlan = plan.hosts[index]
            let memcache = isMemcache(hostPlan)
            events(.hostStarted(host: hostPlan.host.name))
            let outcome = await Self.applyHost(hostPlan, pool: pool, checkFingerprints: checkFingerprints,
                                               applier: hostApplier, beforeServices: { if !memcache { await gate.wait() } })
            if memcache { await gate.arrive() }
            events(.hostFinished(outcome))
            return outcome
        }
        let byName = Dictionary(uniqueKeysWithValues: outcomes.map { ($0.host, $0) })
        return ApplyRecap(outcomes: plan.hosts.compactMap { byName[$0.host.name] })
    }

    private static func applyHost(_ hostPlan: HostPlan, pool: ConnectionPool, checkFingerprints: Bool,
                                  applier: HostApplier,
                                  beforeServices: @escaping @Sendable () async -> Void) async -> HostOutcome {
        let name = hostPlan.host.name
        if let error = hostPlan.error { return .failed(name, error) }
        guard let family = hostPlan.family else { return .failed(name, "the plan does not say which OS the host runs") }
        let transport: HostTransport
        do {
            transport = try await pool.transport(for: hostPlan.host)
            if checkFingerprints {
                // Also refuses the host (FamilyMismatch) when it no longer runs the family the plan was made for.
                let facts = try await FactsGatherer.gather(host: name, query: hostPlan.query, family: family,
                                                           transport: transport)
                guard facts.fingerprint == hostPlan.fingerprint else {
                    return .failed(name, "stale plan: the host's facts changed since the plan was made "
                                   + "(fingerprint \(short(hostPlan.fingerprint)) → \(short(facts.fingerprint))); "
                                   + "nothing applied, run plan again")
                }
            }
        } catch {
            return .failed(name, String(describing: error))
        }
        if hostPlan.changes.isEmpty { return HostOutcome(host: name, status: .ok, applied: 0, message: nil) }
        let host = hostPlan.host
        let result = await applier.apply(hostPlan.changes, family: family, transport: transport, hostName: name,
                                         reconnect: { try await pool.freshConnection(to: host) },
                                         beforeServices: beforeServices)
        if let error = result.error {
            return HostOutcome(host: name, status: .failed, applied: result.applied, message: error.description)
        }
        return HostOutcome(host: name, status: .changed, applied: result.applied, message: nil)
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
