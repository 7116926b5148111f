@testable import ClusterKit

/// A 1 memcache + 2 web cluster of simulated EL5 hosts (`InMemoryTransport`), with renderings written by hand
/// (the Renderer is not under test here).
struct EngineFixture {
    static let stockPHPIni = """
    [PHP]
    ; a comment with  odd   spacing
    memory_limit =    128M\t; trailing comment

    [Session]
    ; session.save_handler = memcache
    session.save_handler   =files
    session.save_path = "/var/lib/php/session"   ; stock path
    session.use_cookies = 1

    """
    static let stockSysconfig = "PORT=\"11211\"\nUSER=\"memcached\"\nMAXCONN=\"1024\"\nCACHESIZE=\"64\"\nOPTIONS=\"\"\n"

    var inventory: Inventory
    var transports: [String: InMemoryTransport]

    /// `sshPort`: what every host's transport reports (nil: unknown, every firewall change protected).
    init(cacheSizeMB: Int = 64, webCount: Int = 2, withOtherHost: Bool = false, sshPort: Int? = nil) {
        let ssh = SSHSettings(user: "root", port: 22)
        var hosts = [Host(name: "mc1", roles: [.memcache], address: "198.18.0.11", privateAddress: "198.18.0.11", ssh: ssh)]
        for i in 1...webCount {
            hosts.append(Host(name: "web\(i)", roles: [.web], address: "198.18.0.2\(i)",
                              privateAddress: "198.18.0.2\(i)", ssh: ssh))
        }
        if withOtherHost {
            hosts.append(Host(name: "other1", roles: [], address: "198.18.0.31", privateAddress: "198.18.0.31", ssh: ssh))
        }
        inventory = Inventory(ssh: ssh, memcached: MemcachedSettings(cacheSizeMB: cacheSizeMB), php: PHPSettings(),
                              hosts: hosts)
        var transports: [String: InMemoryTransport] = [:]
        for host in hosts { transports[host.name] = InMemoryTransport(sshPort: sshPort) }
        self.transports = transports
    }

    /// Fresh hosts: nothing installed; installing php creates the stock php.ini, memcached its sysconfig.
    func makeFresh() async {
        for transport in transports.values {
            await transport.configure {
                $0.packageFiles = ["php": ["/etc/php.ini": Self.stockPHPIni],
                                   "memcached": ["/etc/sysconfig/memcached": Self.stockSysconfig]]
            }
        }
    }

    func transport(_ name: String) -> InMemoryTransport { transports[name]! }

    static func sysconfig(_ settings: MemcachedSettings) -> String {
        "PORT=\"\(settings.port)\"\nUSER=\"\(settings.user ?? "memcached")\"\nMAXCONN=\"\(settings.maxConnections)\"\n"
            + "CACHESIZE=\"\(settings.cacheSizeMB)\"\nOPTIONS=\"\"\n"
    }

    var renderings: [HostRendering] {
        let savePath = inventory.memcacheHosts.map { "tcp://\($0.privateAddress):\(inventory.memcached.port)" }
            .joined(separator: ", ")
        return inventory.hosts.map { host in
            HostRendering(
                host: host,
                managedFiles: host.roles.contains(.memcache)
                    ? [ManagedFile(path: "/etc/sysconfig/memcached", contents: Self.sysconfig(inventory.memcached))] : [],
                phpIniSettings: host.roles.contains(.web)
                    ? [PHPIniSetting(key: "session.save_handler", value: "memcache"),
                       PHPIniSetting(key: "session.save_path", value: "\"\(savePath)\"")] : [],
                firewallRules: FirewallRuleSet(rules: []))
        }
    }

    var pool: ConnectionPool {
        let transports = self.transports
        return ConnectionPool { host in
            guard let transport = transports[host.name] else { throw InMemoryTransportError(message: "no such host") }
            return transport
        }
    }

    /// Every host planned as EL5 (the only family these hand-written renderings are for).
    func targets(limit: String? = nil) throws -> [HostTarget] {
        let renderings = Dictionary(uniqueKeysWithValues: self.renderings.map { ($0.host.name, $0) })
        return try PlanBuilder().targets(inventory: inventory, limit: limit.map(HostLimit.init)) { host, _ in
            renderings[host.name]!
        }.map { HostTarget(host: $0.host, candidates: $0.candidates.filter { $0.family == OSFamilies.el5 }) }
    }

    func plan(limit: String? = nil, pool: ConnectionPool? = nil) async throws -> Plan {
        await PlanBuilder().plan(try targets(limit: limit), pool: pool ?? self.pool, parallel: 4)
    }

    func apply(_ plan: Plan, checkFingerprints: Bool = false, parallel: Int = 4) async -> ApplyRecap {
        await ClusterApplier(parallel: parallel, firewallTiming: .immediate).apply(plan, pool: pool,
                                                                                  checkFingerprints: checkFingerprints)
    }

    /// Plans and applies everything; returns the recap.
    @discardableResult
    func converge() async throws -> ApplyRecap { await apply(try await plan()) }
}
