/// `apply --serial N`: the hosts whose plan restarts a service are applied in batches, each batch whole (files
/// and restarts) and only once the previous one is proven to serve again, so the site never loses every web
/// host — or every copy of a session — at once.
///
/// Order: memcache hosts first (one at a time when `php.sessionRedundancy` > 1 and their memcached restarts:
/// a restart empties a server, and each session must keep a copy on another one; all together otherwise, as
/// without --serial), then every host that restarts nothing, then the web hosts that restart their web server
/// (or php-fpm) N at a time. After each batch every host in it must pass `ServingCheck`: PHP over HTTP reports
/// the new session settings, memcached answers. A failed host or check stops the run; the hosts not yet
/// applied are reported as failed with "left unchanged", and nothing more is done.
public struct RollingApplier: Sendable {
    public var applier: ClusterApplier
    public var batchSize: Int
    public var check: ServingCheck

    public init(applier: ClusterApplier, batchSize: Int, check: ServingCheck = ServingCheck()) {
        self.applier = applier
        self.batchSize = max(1, batchSize)
        self.check = check
    }

    /// Batches of host indices into `plan.hosts`, in the order they run.
    public static func batches(_ plan: Plan, size: Int) -> [[Int]] {
        let memcacheRestarts = plan.hosts.indices.filter { restartsMemcached(plan.hosts[$0]) }
        let webRestarts = plan.hosts.indices.filter { !memcacheRestarts.contains($0) && restartsWeb(plan.hosts[$0]) }
        let rest = plan.hosts.indices.filter { !memcacheRestarts.contains($0) && !webRestarts.contains($0) }
        var batches: [[Int]] = []
        if plan.session.redundancy > 1 {
            batches += memcacheRestarts.map { [$0] }
        } else if !memcacheRestarts.isEmpty {
            batches.append(memcacheRestarts)
        }
        if !rest.isEmpty { batches.append(rest) }
        batches += stride(from: 0, to: webRestarts.count, by: max(1, size)).map {
            Array(webRestarts[$0..<min($0 + max(1, size), webRestarts.count)])
        }
        return batches
    }

    static func restartsMemcached(_ hostPlan: HostPlan) -> Bool {
        guard let family = hostPlan.family, hostPlan.host.roles.contains(.memcache) else { return false }
        return hostPlan.changes.contains { $0.kind == .restartService && $0.service == family.memcachedService }
    }

    static func restartsWeb(_ hostPlan: HostPlan) -> Bool {
        guard let family = hostPlan.family, hostPlan.host.roles.contains(.web) else { return false }
        return hostPlan.changes.contains {
            [.restartService, .startService].contains($0.kind) && family.webServices.contains($0.service ?? "")
        }
    }

    public func apply(_ plan: Plan, pool: ConnectionPool, checkFingerprints: Bool) async -> ApplyRecap {
        var outcomes: [String: HostOutcome] = [:]
        let batches = Self.batches(plan, size: batchSize)
        for (number, batch) in batches.enumerated() {
            // Ctrl-C: no new batch (the running one ends as ClusterApplier ends it); what did not run is named.
            if applier.interruption.isRequested {
                stopAfter(number - 1, "interrupted (Ctrl-C) before its batch", batches, plan, &outcomes)
                break
            }
            var sub = plan
            sub.hosts = batch.map { plan.hosts[$0] }
            // A memcached restart with a second copy of each session: cut off, restart, copy back (SessionResync).
            let resync = plan.session.redundancy > 1 && sub.hosts.count == 1 && Self.restartsMemcached(sub.hosts[0])
            var cutOff: (any HostTransport)?
            if resync, let transport = try? await pool.transport(for: sub.hosts[0].host) {
                if let problem = await SessionResync(session: plan.session).cutOff(sub.hosts[0].host, transport: transport) {
                    outcomes[sub.hosts[0].host.name] = .failed(sub.hosts[0].host.name, problem + "; nothing applied")
                    applier.events(.hostStarted(host: sub.hosts[0].host.name))
                    applier.events(.hostFinished(outcomes[sub.hosts[0].host.name]!))
                    stopAfter(number, "--serial stopped after \(sub.hosts[0].host.name) failed", batches, plan, &outcomes)
                    break
                }
                cutOff = transport
            }
            let recap = await applier.apply(sub, pool: pool, checkFingerprints: checkFingerprints)
            for outcome in recap.outcomes { outcomes[outcome.host] = outcome }
            var stopped = recap.outcomes.filter { $0.status == .failed }.map(\.host)
            for hostPlan in sub.hosts where outcomes[hostPlan.host.name]?.status == .changed {
                var problem = await checkServing(hostPlan, plan: plan, pool: pool)
                if problem == nil, let transport = cutOff {
                    problem = await copyBack(into: hostPlan.host, transport: transport, plan: plan, pool: pool)
                }
                guard let problem else { continue }
                let name = hostPlan.host.name
                outcomes[name]?.status = .failed
                outcomes[name]?.message = "applied, but the check after its restart failed: \(problem)"
                applier.events(.hostFinished(outcomes[name]!))
                stopped.append(name)
            }
            if let transport = cutOff { await SessionResync(session: plan.session).restore(sub.hosts[0].host, transport: transport) }
            if !stopped.isEmpty {
                stopAfter(number, "--serial stopped after " + stopped.joined(separator: ", ") + " failed", batches, plan, &outcomes)
                break
            }
        }
        return ApplyRecap(outcomes: plan.hosts.compactMap { outcomes[$0.host.name] })
    }

    /// The hosts of the batches after `number` are reported failed, "left unchanged".
    private func stopAfter(_ number: Int, _ reason: String, _ batches: [[Int]], _ plan: Plan,
                           _ outcomes: inout [String: HostOutcome]) {
        for name in batches[(number + 1)...].flatMap({ $0 }).map({ plan.hosts[$0].host.name }) {
            let outcome = HostOutcome.failed(name, "left unchanged: " + reason)
            outcomes[name] = outcome
            applier.events(.hostStarted(host: name))
            applier.events(.hostFinished(outcome))
        }
    }

    /// Copies the other memcache hosts' items into `host`'s restarted memcached.
    private func copyBack(into host: Host, transport: any HostTransport, plan: Plan, pool: ConnectionPool) async -> String? {
        var peers: [(Host, any HostTransport)] = []
        for other in plan.hosts where other.host.roles.contains(.memcache) && other.host.name != host.name {
            if let peer = try? await pool.transport(for: other.host) { peers.append((other.host, peer)) }
        }
        guard let problem = await SessionResync(session: plan.session).copy(into: host, transport: transport, from: peers) else {
            return nil
        }
        return "its memcached restarted empty and the sessions could not be copied back (\(problem)); stopping before "
            + "the next memcache host restarts, which would lose their last copy"
    }

    /// nil when the host serves again with what the plan changed.
    private func checkServing(_ hostPlan: HostPlan, plan: Plan, pool: ConnectionPool) async -> String? {
        guard let family = hostPlan.family else { return nil }
        let host = hostPlan.host
        let transport: any HostTransport
        do { transport = try await pool.transport(for: host) } catch { return "cannot connect: \(error)" }
        if Self.restartsMemcached(hostPlan),
           let problem = await check.memcached(host, port: plan.session.memcachedPort, transport: transport) {
            return problem
        }
        if Self.restartsWeb(hostPlan),
           let problem = await check.web(host, family: family, session: plan.session, transport: transport) {
            return problem
        }
        return nil
    }
}
