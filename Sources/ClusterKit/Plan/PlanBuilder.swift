/// Opens a connection to a host (SSH in the CLI, `InMemoryTransport` in unit tests).
public typealias HostConnector = @Sendable (Host) async throws -> HostTransport

/// One connection per host for the whole run: plan and apply of one `clusterctl apply` share it.
public actor ConnectionPool {
    private let connector: HostConnector
    private var open: [String: HostTransport] = [:]

    public init(connector: @escaping HostConnector) {
        self.connector = connector
    }

    public func transport(for host: Host) async throws -> HostTransport {
        if let transport = open[host.name] { return transport }
        let transport = try await connector(host)
        if let raced = open[host.name] {   // another task connected meanwhile (actor reentrancy): keep one
            await transport.close()
            return raced
        }
        open[host.name] = transport
        return transport
    }

    /// A new connection outside the pool, closed by the caller: the firewall step's proof that SSH still
    /// works after its change (the pooled connection was opened before it).
    public func freshConnection(to host: Host) async throws -> HostTransport {
        try await connector(host)
    }

    public func closeAll() async {
        for transport in open.values { await transport.close() }
        open = [:]
    }
}

/// A host to plan, with the desired state for each family it may turn out to be (one when the inventory
/// names its `os`, every supported family otherwise): the facts script carries all of them and runs the
/// query of the family the host is, so detection costs no extra round trip.
public struct HostTarget: Sendable, Equatable {
    public var host: Host
    public var candidates: [DesiredState]

    public init(host: Host, candidates: [DesiredState]) {
        self.host = host
        self.candidates = candidates
    }
}

/// Gathers facts on every host (in parallel, one exec each) and computes its changes.
public struct PlanBuilder: Sendable {
    public var planner: Planner

    public init(planner: Planner = Planner()) {
        self.planner = planner
    }

    /// Hosts without roles are vantage points (verify uses them): nothing to converge, so no connection, and
    /// their firewall is left as it is. Every host with a role gets clusterctl's chain, even if an overriding
    /// template renders no rules for it (then the chain is empty: a template cannot silently stop managing).
    public func targets(inventory: Inventory, limit: HostLimit? = nil,
                        render: (Host, OSFamily) throws -> HostRendering) throws -> [HostTarget] {
        let selected = try limit.map { Set(try $0.select(inventory.hosts).map(\.name)) }
        return try inventory.hosts
            .filter { !$0.roles.isEmpty && (selected?.contains($0.name) ?? true) }
            .map { host in
                let families = host.os.map(OSFamilies.releases) ?? OSFamilies.all
                return HostTarget(host: host, candidates: try families.map { family in
                    DesiredState(rendering: try render(host, family), inventory: inventory, family: family)
                })
            }
    }

    /// `targets` with clusterctl's renderer.
    public func targets(inventory: Inventory, renderer: Renderer, limit: HostLimit? = nil) throws -> [HostTarget] {
        let render = renderer.hostRenderer(for: inventory)
        return try targets(inventory: inventory, limit: limit) { host, family in try render(host, family) }
    }

    /// A host that cannot be reached, whose facts cannot be read or whose OS is not supported gets a
    /// `HostPlan` with `error` set; the other hosts are planned regardless.
    public func plan(_ targets: [HostTarget], pool: ConnectionPool, parallel: Int) async -> Plan {
        let planner = self.planner
        let hosts = await BoundedParallel.map(targets, limit: parallel) { target -> HostPlan in
            var osRelease: String?
            do {
                let transport = try await pool.transport(for: target.host)
                let (candidate, facts) = try await FactsGatherer.gather(
                    host: target.host.name, candidates: target.candidates.map(\.factsCandidate), transport: transport)
                osRelease = facts.osRelease
                guard let desired = target.candidates.first(where: { $0.family == candidate.family }) else {
                    throw FactsError(host: target.host.name, message: "no desired state for \(candidate.family.key)")
                }
                var hostPlan = HostPlan(host: target.host, family: desired.family, osRelease: facts.osRelease,
                                        query: candidate.query, fingerprint: facts.fingerprint,
                                        changes: try planner.changes(desired: desired, facts: facts))
                hostPlan.runLock = facts.runLock
                hostPlan.lockSerial = facts.runLock == nil ? facts.lockSerial : nil
                return hostPlan
            } catch {
                let query = target.candidates.count == 1 ? target.candidates[0].factsQuery : FactsQuery.none
                return HostPlan(host: target.host, family: nil, osRelease: osRelease, query: query,
                                fingerprint: nil, changes: [], error: String(describing: error))
            }
        }
        return Plan(hosts: hosts)
    }

    /// Apply's second look at a host under its run lock: the same desired state against the facts read then.
    public func replanner(for targets: [HostTarget]) -> Replanner {
        let planner = self.planner
        let byName = Dictionary(targets.map { ($0.host.name, $0) }, uniquingKeysWith: { first, _ in first })
        return { hostPlan, facts in
            guard let desired = byName[hostPlan.host.name]?.candidates.first(where: { $0.family == hostPlan.family }) else {
                throw FactsError(host: hostPlan.host.name, message: "no desired state to plan again with")
            }
            return try planner.changes(desired: desired, facts: facts)
        }
    }
}
