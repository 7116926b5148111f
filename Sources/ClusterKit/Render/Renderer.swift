/// Everything clusterctl wants on one host, rendered from the inventory and the templates.
public struct HostRendering: Sendable, Equatable {
    public var host: Host
    /// The family whose paths and formats the files are rendered for.
    public var family: OSFamily
    /// Whole files clusterctl owns, sorted by path (e.g. /etc/sysconfig/memcached on memcache hosts).
    public var managedFiles: [ManagedFile]
    /// Web hosts: session.save_handler then session.save_path (as the template lists them); empty otherwise.
    public var phpIniSettings: [PHPIniSetting]
    /// The rules of the CLUSTERCTL chain for this host (memcache rules, then web rules).
    public var firewallRules: FirewallRuleSet

    public init(host: Host, family: OSFamily = OSFamilies.el5, managedFiles: [ManagedFile],
                phpIniSettings: [PHPIniSetting], firewallRules: FirewallRuleSet) {
        self.host = host
        self.family = family
        self.managedFiles = managedFiles
        self.phpIniSettings = phpIniSettings
        self.firewallRules = firewallRules
    }
}

public struct ManagedFile: Sendable, Equatable {
    /// Absolute path on the host.
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

/// One php.ini line: `key = value`.
public struct PHPIniSetting: Sendable, Equatable {
    public var key: String
    /// Exactly as it follows "= " in php.ini, quotes included (`"tcp://10.180.0.5:11211"`).
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    public var line: String { "\(key) = \(value)" }
}

public struct FirewallRuleSet: Sendable, Equatable {
    public static let defaultChain = "CLUSTERCTL"
    public var chain: String
    /// Each one iptables-save line, e.g. `-A CLUSTERCTL -s 10.180.0.11/32 -p tcp -m tcp --dport 11211 -j ACCEPT`.
    public var rules: [String]

    public init(chain: String = FirewallRuleSet.defaultChain, rules: [String]) {
        self.chain = chain
        self.rules = rules
    }
}

/// Renders every host of an inventory. Pure: no files, no network; the same input gives the same output.
public struct Renderer: Sendable {
    /// What `render` (which never connects) renders a host for when the inventory names no `os` for it.
    public static let defaultFamily = OSFamilies.el5
    public static let requiredPHPKeys = ["session.save_handler", "session.save_path"]

    public let templates: TemplateSet

    public init(templates: TemplateSet) {
        self.templates = templates
    }

    /// The family a host is rendered for without looking at it: the inventory's `os`, else `defaultFamily`.
    public static func declaredFamily(of host: Host) -> OSFamily {
        host.os.flatMap(OSFamilies.named) ?? defaultFamily
    }

    /// One rendering per host, sorted by host name, each for its declared family (`declaredFamily`).
    public func render(_ inventory: Inventory) throws(TemplateError) -> [HostRendering] {
        let render = hostRenderer(for: inventory)
        var renderings: [HostRendering] = []
        for host in inventory.hosts.sorted(by: { $0.name < $1.name }) {
            renderings.append(try render(host, Self.declaredFamily(of: host)))
        }
        return renderings
    }

    public func render(_ host: Host, in inventory: Inventory, family: OSFamily) throws(TemplateError) -> HostRendering {
        try hostRenderer(for: inventory)(host, family)
    }

    /// Renders hosts of `inventory`, sharing what is the same for all of them: for rendering many hosts.
    public func hostRenderer(for inventory: Inventory) -> (Host, OSFamily) throws(TemplateError) -> HostRendering {
        let chain = FirewallRuleSet.defaultChain
        let inventoryValues = TemplateContext.inventoryValues(inventory, chain: chain)
        let templates = self.templates
        let parsed = RenderedOutputMemo()
        return { host, family throws(TemplateError) in
            let context = TemplateContext.values(for: host, inventoryValues: inventoryValues, inventory: inventory, family: family)
            var files: [ManagedFile] = []
            var settings: [PHPIniSetting] = []
            var rules: [String] = []
            if host.roles.contains(.memcache) {
                let (text, _) = templates.render(family.memcachedConfig.template, context: context)
                files.append(ManagedFile(path: family.memcachedConfig.path, contents: text))
                rules += try parsed.firewallRules(templates.render(.firewallMemcache, context: context),
                                                                 chain: chain, host: host.name)
            }
            if host.roles.contains(.web) {
                settings = try parsed.phpSettings(templates.render(.phpSession, context: context), host: host.name)
                rules += try parsed.firewallRules(templates.render(.firewallWeb, context: context),
                                                                chain: chain, host: host.name)
            }
            return HostRendering(host: host, family: family, managedFiles: files.sorted { $0.path < $1.path }, phpIniSettings: settings,
                                 firewallRules: FirewallRuleSet(chain: chain, rules: rules))
        }
    }
}
