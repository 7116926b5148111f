/// The changes for every selected host, plus what is needed to apply them later (saved plans).
public struct Plan: Sendable, Equatable {
    public var hosts: [HostPlan]
    /// What the operator should know before applying (sessions a memcached restart loses: `SessionRedundancyNotes`).
    public var warnings: [String] = []
    /// `php.sessionRedundancy` the plan was made for (`apply --serial` restarts memcache hosts one at a time
    /// only when a session has another copy), and the session lines the web hosts must serve afterwards.
    public var session = PlanSession()

    /// Makes apply read every host's facts again under its lock: they may be old (a person read the plan
    /// before confirming it), and a host may have changed meanwhile by other means than clusterctl.
    public mutating func requireRecheckUnderLock() {
        for index in hosts.indices { hosts[index].lockSerial = nil }
    }

    public init(hosts: [HostPlan]) {
        self.hosts = hosts
    }

    public var summary: PlanSummary {
        PlanSummary(
            hosts: hosts.count,
            changedHosts: hosts.filter { !$0.changes.isEmpty }.count,
            failedHosts: hosts.filter { $0.error != nil }.count,
            packages: hosts.reduce(0) { $0 + $1.changes.filter { $0.kind == .installPackage }.count },
            files: hosts.reduce(0) { $0 + $1.changes.filter { $0.kind == .writeFile }.count },
            services: hosts.reduce(0) { $0 + $1.changedServices.count },
            firewallChains: hosts.reduce(0) { $0 + $1.changes.filter { [.replaceFirewallChain, .configureFirewalld].contains($0.kind) }.count })
    }

    public var hasChanges: Bool { hosts.contains { !$0.changes.isEmpty } }
}

public struct HostPlan: Sendable, Equatable {
    public var host: Host
    /// The family the host was recognised as (its changes are in that family's terms); nil when unknown.
    public var family: OSFamily?
    /// What the host says it runs (os-release's PRETTY_NAME), for the plan's header; nil when not read.
    public var osRelease: String?
    /// The facts query this plan was computed from (re-run by `apply plan.json`).
    public var query: FactsQuery
    /// SHA-256 of the raw facts output; nil when facts could not be gathered.
    public var fingerprint: String?
    public var changes: [Change]
    /// Why this host could not be planned (unreachable, facts failed).
    public var error: String?
    /// The run lock some apply held on the host when it was planned (plan does not lock; it shows it).
    public var runLock: RunLockInfo?
    /// The run-lock serial the facts read when no lock was present (nil otherwise, and in saved plans): apply
    /// takes the lock without reading the facts again when the serial is still this one (`HostRunLock`).
    public var lockSerial: String?

    public init(host: Host, family: OSFamily?, osRelease: String? = nil, query: FactsQuery, fingerprint: String?,
                changes: [Change], error: String? = nil) {
        self.host = host
        self.family = family
        self.osRelease = osRelease
        self.query = query
        self.fingerprint = fingerprint
        self.changes = changes
        self.error = error
    }

    /// Services with at least one change (enable, start or restart), in order of first appearance.
    public var changedServices: [String] {
        var seen: [String] = []
        for change in changes {
            if let service = change.service, !seen.contains(service) { seen.append(service) }
        }
        return seen
    }
}

public struct PlanSummary: Sendable, Equatable, Codable {
    public var hosts: Int
    public var changedHosts: Int
    public var failedHosts: Int
    public var packages: Int
    public var files: Int
    public var services: Int
    /// Hosts whose clusterctl chain (or its INPUT jump) is replaced.
    public var firewallChains: Int

    /// The line the plan ends with.
    public var line: String {
        "Plan: \(changedHosts) of \(hosts) hosts change; \(packages) packages, \(files) files, \(services) services, "
            + "\(firewallChains) firewall chains."
    }
}

/// The session settings a plan converges the web hosts to.
public struct PlanSession: Sendable, Equatable, Codable {
    public var redundancy: Int
    /// php.ini keys and values (without quotes) PHP must report once a web host serves the new settings.
    public var settings: [String: String]
    /// `memcached.port`: where a restarted memcached must answer again.
    public var memcachedPort: Int
    /// Every web host's private address: whom a memcache host is cut off from while its memcached restarts.
    public var webSources: [String]

    public init(redundancy: Int = 1, settings: [String: String] = [:], memcachedPort: Int = 11211, webSources: [String] = []) {
        self.redundancy = redundancy
        self.settings = settings
        self.memcachedPort = memcachedPort
        self.webSources = webSources
    }
}
