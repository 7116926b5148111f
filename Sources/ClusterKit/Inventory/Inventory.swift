/// The validated, resolved inventory: what every other part of ClusterKit works from.
///
/// Built only by `InventoryLoader` (decoding + validation), so code holding an `Inventory` may assume
/// every value is safe to put in a config file or a remote shell command (still quote it: see `ShellQuote`).
/// Host-level SSH overrides are already merged into `Host.ssh`; `privateAddress` is already defaulted.
public struct Inventory: Sendable, Equatable {
    public var ssh: SSHSettings
    public var memcached: MemcachedSettings
    public var php: PHPSettings
    public var firewall: FirewallSettings
    /// Sorted by name, so everything derived from the inventory is deterministic.
    public var hosts: [Host]

    public init(ssh: SSHSettings, memcached: MemcachedSettings, php: PHPSettings,
                firewall: FirewallSettings = FirewallSettings(), hosts: [Host]) {
        self.ssh = ssh
        self.memcached = memcached
        self.php = php
        self.firewall = firewall
        self.hosts = hosts.sorted { $0.name < $1.name }
    }

    public var memcacheHosts: [Host] { hosts.filter { $0.roles.contains(.memcache) } }
    public var webHosts: [Host] { hosts.filter { $0.roles.contains(.web) } }
    public func host(named name: String) -> Host? { hosts.first { $0.name == name } }
}

public enum Role: String, Sendable, Codable, CaseIterable, Comparable {
    case memcache
    case web

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rawValue < rhs.rawValue }
}

public struct Host: Sendable, Equatable {
    /// A plain DNS label (`[a-z0-9][a-z0-9-]*`), used in directory names and plan output.
    public var name: String
    /// Empty roles are allowed: such a host is only a vantage point (e.g. verify checks that it can NOT
    /// reach memcached).
    public var roles: Set<Role>
    /// Where SSH connects: an IP literal or a hostname.
    public var address: String
    /// IP literal used in configs and firewall rules.
    public var privateAddress: String
    /// Effective SSH settings (top-level merged with the host's own `ssh` block).
    public var ssh: SSHSettings
    /// The OS family key the inventory expects (`os`, top-level or the host's own; validated against
    /// `OSFamilies`): plan refuses a host that turns out to be another, render renders for it. nil = any
    /// supported family, recognised from the host's facts.
    public var os: String?

    public init(name: String, roles: Set<Role>, address: String, privateAddress: String, ssh: SSHSettings,
                os: String? = nil) {
        self.name = name
        self.roles = roles
        self.address = address
        self.privateAddress = privateAddress
        self.ssh = ssh
        self.os = os
    }

    public var sortedRoles: [Role] { roles.sorted() }
}

public struct SSHSettings: Sendable, Equatable {
    public var user: String
    public var port: Int
    /// Path as written in the inventory (may start with `~`); nil = OpenSSH's default identities.
    public var identityFile: String?
    /// nil = `~/.ssh/known_hosts`.
    public var knownHostsFile: String?
    /// "sudo": run facts and every change through sudo (the login user is not root); nil = as the login user.
    public var become: String?
    /// Bastions in OpenSSH ProxyJump syntax (`ops@bastion:2222,inner`); nil = direct (or the ssh config's).
    public var jumpHost: String?
    /// OpenSSH client config to resolve `address` through (a Host alias); nil = `~/.ssh/config` when it
    /// exists, "none" = no config.
    public var config: String?
    /// The keys written in the inventory (top-level or the host's): those win over the ssh config.
    public var explicitKeys: Set<String> = []

    public init(user: String = "root", port: Int = 22, identityFile: String? = nil, knownHostsFile: String? = nil,
                become: String? = nil) {
        self.become = become
        self.user = user
        self.port = port
        self.identityFile = identityFile
        self.knownHostsFile = knownHostsFile
    }
}

public struct MemcachedSettings: Sendable, Equatable {
    public var port: Int
    /// nil = the user the host's memcached package creates (`OSFamily.memcachedUser`).
    public var user: String?
    public var maxConnections: Int
    public var cacheSizeMB: Int
    /// Extra memcached command-line options, each one word (validated: no shell syntax).
    public var extraOptions: [String]

    public init(port: Int = 11211, user: String? = nil, maxConnections: Int = 1024,
                cacheSizeMB: Int = 64, extraOptions: [String] = []) {
        self.port = port
        self.user = user
        self.maxConnections = maxConnections
        self.cacheSizeMB = cacheSizeMB
        self.extraOptions = extraOptions
    }
}

public enum SessionHandler: String, Sendable, Codable, CaseIterable {
    /// PECL memcache: save_path `tcp://IP:PORT, tcp://IP:PORT`.
    case memcache
    /// PECL memcached: save_path `IP:PORT,IP:PORT` without scheme.
    case memcached

}

public struct PHPSettings: Sendable, Equatable {
    public var sessionHandler: SessionHandler
    /// How many memcached servers hold each session (1…number of memcache hosts): with 2 or more, any one
    /// memcache host can go away without losing a session (`SessionExtension` says how each extension does it).
    public var sessionRedundancy: Int
    public init(sessionHandler: SessionHandler = .memcache, sessionRedundancy: Int = 1) {
        self.sessionHandler = sessionHandler
        self.sessionRedundancy = sessionRedundancy
    }
}

public struct FirewallSettings: Sendable, Equatable {
    /// Extra sources (IP literals or CIDR) allowed to reach memcached besides the web hosts.
    public var allowFrom: [String]
    public init(allowFrom: [String] = []) { self.allowFrom = allowFrom }
}
