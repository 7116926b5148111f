// TEMPORARY: the issue-2 rendering contract, copied from the brief so the plan/apply engine (issue 5) compiles
// before the Renderer lands. Replaced by the issue-2 implementation at merge; delete this file then.

public struct HostRendering: Sendable, Equatable {
    public var host: Host
    /// Whole files clusterctl owns, e.g. /etc/sysconfig/memcached.
    public var managedFiles: [ManagedFile]
    /// Web hosts: session.save_handler, session.save_path (in that order).
    public var phpIniSettings: [PHPIniSetting]
    /// Rules of the CLUSTERCTL chain for this host.
    public var firewallRules: FirewallRuleSet

    public init(host: Host, managedFiles: [ManagedFile], phpIniSettings: [PHPIniSetting],
                firewallRules: FirewallRuleSet) {
        self.host = host
        self.managedFiles = managedFiles
        self.phpIniSettings = phpIniSettings
        self.firewallRules = firewallRules
    }
}

public struct ManagedFile: Sendable, Equatable {
    public var path: String
    public var contents: String
    public var mode: Int32
    public var owner: String
    public var group: String

    public init(path: String, contents: String, mode: Int32 = 0o644, owner: String = "root", group: String = "root") {
        self.path = path
        self.contents = contents
        self.mode = mode
        self.owner = owner
        self.group = group
    }
}

public struct PHPIniSetting: Sendable, Equatable {
    public var key: String
    /// Exactly as after "= " (with quotes).
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

public struct FirewallRuleSet: Sendable, Equatable {
    public var chain: String
    /// Each rule one iptables-save line.
    public var rules: [String]

    public init(chain: String = "CLUSTERCTL", rules: [String]) {
        self.chain = chain
        self.rules = rules
    }
}
