/// One operating-system release line clusterctl supports (EL 5, Debian 12, Ubuntu 24.04 …): what it is called,
/// how a host is recognised as one, and everything about it the engine needs — package names, paths, file
/// formats, services, firewall persistence — as data, plus the two strategies whose behaviour really differs
/// (`PackageManager`, `ServiceManager`). The engine asks the family; it never branches on an OS name.
///
/// Every command a family returns is a complete POSIX-sh command line with every argument quoted.
public struct OSFamily: Sendable, CustomStringConvertible {
    /// Identifier in saved plans, the inventory's `os` and plan headers ("el5", "debian12", "ubuntu24.04").
    public var key: String
    /// For people: "EL 5", "Debian 12".
    public var name: String
    /// Which hosts are this family (from /etc/os-release or /etc/redhat-release).
    public var match: PlatformMatch
    public var packageManager: any PackageManager
    public var serviceManager: any ServiceManager

    /// The repository packages a package comes from (EPEL's `epel-release` for memcached on EL5): installed
    /// first, in a transaction of their own, and only for hosts that need them.
    public var repositories: [String: [String]]
    public var memcachedPackages: [String]
    /// The web server, its PHP and PHP's CLI (verify runs PHP on web hosts).
    public var webPackages: [String]
    /// The PHP extension package for each session handler.
    public var extensionPackages: [SessionHandler: String]
    /// What the firewall step needs on every host it manages (iptables, and what restores rules at boot).
    public var firewallPackages: [String]

    public var memcachedService: String
    /// The web tier's services, in start order (php-fpm before the httpd that hands PHP to it).
    public var webServices: [String]
    /// Installing a service's package also starts it (Debian's postinst does), with the package's own config:
    /// a start planned for such a service after an install must be a restart to read the files written since.
    public var packagesStartServices: Bool
    /// memcached's own configuration file: its path and the template that renders it in this family's format.
    public var memcachedConfig: ConfigFile
    /// The user the memcached package creates (used when the inventory does not name one).
    public var memcachedUser: String
    /// Every file whose session settings clusterctl edits on web hosts — php.ini, and the override layers
    /// above it that would otherwise win — each with the service that reads it (nil: the CLI).
    public var phpSettingsFiles: [ConfigFile.PHPSettings]
    /// The php.ini of the PHP that serves pages: what verify checks PHP's settings against.
    public var servingPHPIni: String
    /// SELinux booleans web hosts need on (EL: `httpd_can_network_memcache`); none where there is no SELinux.
    public var selinuxWebBooleans: [String]
    /// The SELinux type memcached's port must have when it is not the default one (EL: `memcache_port_t`).
    public var selinuxMemcachedPortType: String?
    /// What to tell the operator when installing a package fails, by package (a repository it needs that
    /// clusterctl does not enable by itself).
    public var installHints: [String: String] = [:]
    /// Which line of each session extension the family's package is (`SessionExtension`): what the session
    /// redundancy settings are written for, and whether it can keep a session on several servers at all.
    public var sessionExtensionLines: [SessionHandler: SessionExtension.Line] = [
        .memcache: .memcache4, .memcached: .memcached3,
    ]
    /// The packages that bring `semanage`, installed on hosts whose port must be labeled.
    public var selinuxPortTools: [String]
    /// Saves the running iptables rules where the OS restores them from at boot.
    public var firewallPersistCommand: String

    public var description: String { name }

    /// Packages for a host with these roles, in install order.
    public func packages(for roles: Set<Role>, sessionHandler: SessionHandler, firewall: Bool) -> [String] {
        var result: [String] = []
        if roles.contains(.memcache) { result += memcachedPackages }
        if roles.contains(.web) { result += webPackages + [extensionPackages[sessionHandler]].compactMap { $0 } }
        if firewall && !roles.isEmpty { result += firewallPackages.filter { !result.contains($0) } }
        return result
    }

    public func sessionExtension(_ handler: SessionHandler) -> SessionExtension {
        SessionExtension(handler, sessionExtensionLines[handler] ?? (handler == .memcache ? .memcache4 : .memcached3))
    }

    /// Service names for a host with these roles, in start order.
    public func services(for roles: Set<Role>) -> [String] {
        (roles.contains(.memcache) ? [memcachedService] : []) + (roles.contains(.web) ? webServices : [])
    }

    /// The repository packages `packages` come from, in order, each once.
    public func repositoryPackages(for packages: [String]) -> [String] {
        var result: [String] = []
        for package in packages {
            for repository in repositories[package] ?? [] where !result.contains(repository) { result.append(repository) }
        }
        return result
    }

    /// Which service must restart when the file at `path` changes (nil: none).
    public func service(restartedBy path: String) -> String? {
        if path == memcachedConfig.path { return memcachedService }
        return phpSettingsFiles.first { $0.path == path }?.restarts
    }
}

/// A whole file clusterctl renders and owns.
public struct ConfigFile: Sendable, Equatable {
    public var path: String
    public var template: TemplateName

    /// A file whose session lines clusterctl edits in place.
    public struct PHPSettings: Sendable, Equatable {
        public var path: String
        public var format: SettingsFormat
        /// The service that reads it (restarted when it changes); nil for the CLI's.
        public var restarts: String?

        public init(path: String, format: SettingsFormat = .phpIni, restarts: String?) {
            self.path = path
            self.format = format
            self.restarts = restarts
        }
    }
}

/// How a host is recognised. `ids` are matched against /etc/os-release's ID and ID_LIKE words (a derivative
/// such as Rocky says ID_LIKE="rhel centos fedora"); `version` against VERSION_ID — its major part (before the
/// first dot) unless `exactVersion` (Ubuntu's "24.04"). Hosts without os-release (EL5, EL6) are read from
/// /etc/redhat-release, which counts as ID "rhel".
///
/// `whenFileExists`: a variant of a release that the host's own setup selects (Debian serving PHP through
/// php-fpm, recognised by Apache's enabled php-fpm configuration), listed before the plain release.
public struct PlatformMatch: Sendable, Equatable {
    public var ids: [String]
    public var version: String
    public var exactVersion: Bool
    public var whenFileExists: String?

    public init(ids: [String], version: String, exactVersion: Bool = false, whenFileExists: String? = nil) {
        self.ids = ids
        self.version = version
        self.exactVersion = exactVersion
        self.whenFileExists = whenFileExists
    }
}

extension OSFamily {
    /// The release this family is, or is a variant of ("debian12" for "debian12+fpm"): what the inventory's
    /// `os` names.
    public var release: String { key.split(separator: "+").first.map(String.init) ?? key }
}

extension OSFamily: Equatable {
    /// Families are values from one table (`OSFamilies`): the key identifies them.
    public static func == (lhs: OSFamily, rhs: OSFamily) -> Bool { lhs.key == rhs.key }
}
