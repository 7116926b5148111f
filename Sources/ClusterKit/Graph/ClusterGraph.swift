/// The cluster as a picture, before it is drawn: hosts grouped by role and the network flows between them
/// that the bundled firewall templates allow or drop. `clusterctl graph` renders it as SVG, DOT or Mermaid;
/// all three come from this one model so they never disagree.
///
/// Built from the inventory alone (no templates, no network): it shows what the inventory means, which is
/// what an operator reviews before `plan`. Everything is ordered (groups, hosts by name, flows by source then
/// target), so the same inventory always gives the same bytes.
public struct ClusterGraph: Sendable, Equatable {
    public enum GroupKind: String, Sendable, CaseIterable {
        /// "Anyone": HTTP clients on the internet or wherever the web hosts are reachable from.
        case anyone
        case web
        /// Hosts with both roles: targets of memcached flows and of HTTP, and sources to the other memcache hosts.
        case memcacheAndWeb
        case memcache
        /// firewall.allowFrom sources (addresses or networks, not inventory hosts).
        case allowFrom
        /// Hosts without a role: vantage points that must not reach memcached.
        case noRole

        public var title: String {
            switch self {
            case .anyone: "clients"
            case .web: "web"
            case .memcacheAndWeb: "memcache + web"
            case .memcache: "memcache"
            case .allowFrom: "firewall.allowFrom"
            case .noRole: "no role"
            }
        }
    }

    public struct Node: Sendable, Equatable {
        public enum Kind: Sendable, Equatable { case host, anyone, source }
        /// Unique and stable: `host-<name>`, `anyone`, `source-<n>`. Host names are plain labels, so no
        /// host id can collide with the others.
        public var id: String
        public var kind: Kind
        /// First line is the name; the rest are details (addresses, what listens).
        public var lines: [String]
        public var title: String { lines[0] }
    }

    public struct Group: Sendable, Equatable {
        public var kind: GroupKind
        public var nodes: [Node]
    }

    public struct Flow: Sendable, Equatable {
        public var from: String
        public var to: String
        /// What the flow is, e.g. `tcp/11211`.
        public var service: String
        public var allowed: Bool
        /// Why, when not obvious from the groups (e.g. a role-less host inside an allowFrom network).
        public var note: String?

        /// `tcp/11211`, `tcp/11211 via 10.180.0.0/24`, `tcp/11211 blocked`.
        public var label: String {
            allowed ? service + (note.map { " \($0)" } ?? "") : "\(service) blocked"
        }
    }

    /// Non-empty groups, in `GroupKind` order.
    public var groups: [Group]
    public var flows: [Flow]
    public var memcachedPort: Int

    public var nodes: [Node] { groups.flatMap(\.nodes) }
    public func node(_ id: String) -> Node? { nodes.first { $0.id == id } }

    public init(inventory: Inventory) {
        memcachedPort = inventory.memcached.port
        let memcachedService = "tcp/\(inventory.memcached.port)"
        let httpService = "tcp/80, 443"

        func hostNode(_ host: Host) -> Node {
            var lines = [host.name]
            lines.append(host.privateAddress == host.address
                         ? host.address : "\(host.address) · \(host.privateAddress)")
            var listens: [String] = []
            if host.roles.contains(.memcache) { listens.append("memcached \(memcachedService)") }
            if host.roles.contains(.web) { listens.append("http \(httpService)") }
            lines.append(listens.isEmpty ? "no role" : listens.joined(separator: " · "))
            return Node(id: Self.hostID(host.name), kind: .host, lines: lines)
        }
        // Hosts in drawing order: by group, then by name (the inventory's order).
        let ordered = GroupKind.allCases.flatMap { kind in inventory.hosts.filter { Self.groupKind($0.roles) == kind } }
        func hosts(_ kind: GroupKind) -> [Host] { ordered.filter { Self.groupKind($0.roles) == kind } }
        let webHosts = ordered.filter { $0.roles.contains(.web) }
        let memcacheHosts = ordered.filter { $0.roles.contains(.memcache) }
        let noRole = hosts(.noRole)
        let sources = inventory.firewall.allowFrom.enumerated().map { index, source in
            Node(id: "source-\(index + 1)", kind: .source, lines: [source, "allowed to memcached"])
        }
        let anyone = Node(id: "anyone", kind: .anyone, lines: ["anyone", "HTTP clients"])

        let candidates: [(GroupKind, [Node])] = [
            (.anyone, webHosts.isEmpty ? [] : [anyone]),
            (.web, hosts(.web).map(hostNode)),
            (.memcacheAndWeb, hosts(.memcacheAndWeb).map(hostNode)),
            (.memcache, hosts(.memcache).map(hostNode)),
            (.allowFrom, sources),
            (.noRole, noRole.map(hostNode)),
        ]
        groups = candidates.filter { !$0.1.isEmpty }.map { Group(kind: $0.0, nodes: $0.1) }

        // Order: by source (group order), then target (group order): the order the firewall reasons in.
        var flows: [Flow] = []
        for web in webHosts {
            flows.append(Flow(from: anyone.id, to: Self.hostID(web.name), service: httpService, allowed: true))
        }
        for web in webHosts {
            // A host's own memcached is reached over loopback, which the chain always accepts: no arrow.
            for target in memcacheHosts where target.name != web.name {
                flows.append(Flow(from: Self.hostID(web.name), to: Self.hostID(target.name),
                                  service: memcachedService, allowed: true))
            }
        }
        for source in sources {
            for target in memcacheHosts {
                flows.append(Flow(from: source.id, to: Self.hostID(target.name), service: memcachedService, allowed: true))
            }
        }
        for host in noRole {
            // The chain accepts by source address, so a role-less host inside an allowFrom network gets in.
            let network = inventory.firewall.allowFrom.first { Self.contains($0, host.privateAddress) }
            for target in memcacheHosts {
                flows.append(Flow(from: Self.hostID(host.name), to: Self.hostID(target.name), service: memcachedService,
                                  allowed: network != nil, note: network.map { "via allowFrom \($0)" }))
            }
        }
        self.flows = flows
    }

    public static func hostID(_ name: String) -> String { "host-\(name)" }

    static func groupKind(_ roles: Set<Role>) -> GroupKind {
        switch (roles.contains(.memcache), roles.contains(.web)) {
        case (true, true): .memcacheAndWeb
        case (true, false): .memcache
        case (false, true): .web
        case (false, false): .noRole
        }
    }

    /// Whether an IPv4 address lies in an allowFrom entry (an address or a CIDR network, already validated).
    static func contains(_ source: String, _ address: String) -> Bool {
        let pieces = source.split(separator: "/", omittingEmptySubsequences: false)
        guard let network = ValueRules.parseIPv4(String(pieces[0])), let host = ValueRules.parseIPv4(address),
              pieces.count <= 2 else { return false }
        guard let prefix = pieces.count == 2 ? Int(pieces[1]) : 32, (0...32).contains(prefix) else { return false }
        let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix)
        let value = { (octets: [UInt8]) in octets.reduce(UInt32(0)) { $0 << 8 | UInt32($1) } }
        return value(network) & mask == value(host) & mask
    }
}
