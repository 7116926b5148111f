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

/// Gathers facts on every host (in parallel, one exec each) and computes its changes.
public struct PlanBuilder: Sendable {
    public var planner: Planner

    public init(planner: Planner = Planner()) {
        self.planner = planner
    }

    public var family: OSFamily { planner.family }

    /// Hosts without roles are vantage points (verify uses them): nothing to converge, so no connection, and
    /// their firewall is left as it is. Every host with a role gets clusterctl's chain, even if an overriding
    /// template renders no rules for it (then the chain is empty: a template cannot silently stop managing).
    public func desiredStates(inventory: Inventory, renderings: [HostRendering],
                              limit: HostLimit? = nil) throws -> [DesiredState] {
        let selected = try limit.map { Set(try $0.select(inventory.hosts).map(\.name)) }
        return renderings
            .filter { !$0.host.roles.isEmpty && (selected?.contains($0.host.name) ?? true) }
            .map { DesiredState(rendering: $0, inventory: inventory, family: family) }
    }

    /// A host that cannot be reached or whose facts cannot be read gets a `HostPlan` with `error` set;
    /// the other hosts are planned regardless.
    public func plan(_ desired: [DesiredState], pool: ConnectionPool, parallel: Int) async -> Plan {
        let planner = self.planner
        let hosts = await BoundedParallel.map(desired, limit: parallel) { state -> HostPlan in
            let query = state.factsQuery
            do {
                let transport = try await pool.transport(for: state.host)
                let facts = try await FactsGatherer.gather(host: state.host.name, query: query,
                                                           family: planner.family, transport: transport)
                return HostPlan(host: state.host, query: query, fingerprint: facts.fingerprint,
                                changes: planner.changes(desired: state, facts: facts))
            } catch {
                return HostPlan(host: state.host, query: query, fingerprint: nil, changes: [],
                                error: String(describing: error))
            }
        }
        return Plan(osFamily: family.identifier, hosts: hosts)
    }
}

/// Looks an OS family up by its identifier (saved plans name theirs).
public enum OSFamilies {
    public static func named(_ identifier: String) -> OSFamily? {
        identifier == ELFamily().identifier ? ELFamily() : nil
    }
}
