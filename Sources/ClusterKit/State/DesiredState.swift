/// What one host should look like, from the inventory and its rendering. Facts are compared against this.
public struct DesiredState: Sendable, Equatable {
    public var host: Host
    /// The family this state was rendered for (package names, paths and commands are that family's).
    public var family: OSFamily
    /// In install order: repository packages (EPEL) first, since the others come from them.
    public var repositoryPackages: [String]
    public var packages: [String]
    public var files: [DesiredFile]
    /// In start order.
    public var services: [String]
    /// The CLUSTERCTL chain (`FirewallStep`); nil = the firewall is not managed (no iptables facts either).
    public var firewall: FirewallRuleSet?
    /// SELinux booleans to turn on and `type/port` labels to add (`SELinuxStep`), unless SELinux is disabled.
    public var selinuxBooleans: [String] = []
    /// The firewall's intent in firewalld's terms, used instead of `firewall` where firewalld runs.
    public var firewalldIntent: FirewalldIntent?
    public var selinuxPorts: [String] = []

    public init(host: Host, family: OSFamily, repositoryPackages: [String], packages: [String], files: [DesiredFile],
                services: [String], firewall: FirewallRuleSet?) {
        self.host = host
        self.family = family
        self.repositoryPackages = repositoryPackages
        self.packages = packages
        self.files = files
        self.services = services
        self.firewall = firewall
    }

    /// `rendering` must have been rendered for `family`. `manageFirewall`: every host with a role gets its
    /// chain (`PlanBuilder` decides); false leaves iptables alone and out of the facts.
    public init(rendering: HostRendering, inventory: Inventory, family: OSFamily, manageFirewall: Bool = true) {
        let roles = rendering.host.roles
        var files = rendering.managedFiles.map {
            DesiredFile(path: $0.path, content: .whole($0), restarts: family.service(restartedBy: $0.path))
        }
        if !rendering.phpIniSettings.isEmpty {
            for file in family.phpSettingsFiles {
                files.append(DesiredFile(path: file.path, content: .settingsEdit(file.format, rendering.phpIniSettings),
                                         restarts: file.restarts))
            }
        }
        let firewall = manageFirewall ? rendering.firewallRules : nil
        let packages = family.packages(for: roles, sessionHandler: inventory.php.sessionHandler,
                                       firewall: firewall != nil)
        self.init(host: rendering.host, family: family,
                  repositoryPackages: family.repositoryPackages(for: packages),
                  packages: packages, files: files, services: family.services(for: roles), firewall: firewall)
        if roles.contains(.web) { selinuxBooleans = family.selinuxWebBooleans }
        if firewall != nil {
            let memcache = roles.contains(.memcache)
            firewalldIntent = FirewalldIntent(memcachedPort: memcache ? inventory.memcached.port : nil,
                                              memcachedSources: memcache ? TemplateContext.memcachedSources(inventory) : [],
                                              webServices: roles.contains(.web) ? ["http", "https"] : [])
        }
        let port = inventory.memcached.port
        if roles.contains(.memcache), port != MemcachedSettings().port, let type = family.selinuxMemcachedPortType {
            selinuxPorts = ["\(type)/\(port)"]
            self.packages += family.selinuxPortTools.filter { !self.packages.contains($0) }
        }
    }

    public var factsQuery: FactsQuery {
        FactsQuery(packages: repositoryPackages + packages, services: services, files: files.map(\.path),
                   firewall: firewall != nil, selinuxBooleans: selinuxBooleans, selinuxPorts: selinuxPorts)
    }

    public var factsCandidate: FactsCandidate { FactsCandidate(family: family, query: factsQuery) }
}

public struct DesiredFile: Sendable, Equatable {
    public enum Content: Sendable, Equatable {
        /// clusterctl owns the whole file.
        case whole(ManagedFile)
        /// Only these session settings are ours, in a file of this format; every other byte stays
        /// (`SettingsEditor`).
        case settingsEdit(SettingsFormat, [PHPIniSetting])
    }

    public var path: String
    public var content: Content
    /// Service to restart when this file changes (the handler).
    public var restarts: String?

    public init(path: String, content: Content, restarts: String?) {
        self.path = path
        self.content = content
        self.restarts = restarts
    }
}
