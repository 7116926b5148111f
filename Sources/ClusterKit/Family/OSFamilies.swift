/// The supported families, as data (compare Ansible roles' vars/RedHat.yml beside vars/Debian.yml).
public enum OSFamilies {
    /// Every supported family, in the order README and error messages list them.
    public static let all: [OSFamily] = elReleases + debianReleases

    public static func named(_ key: String) -> OSFamily? { all.first { $0.key == key } }

    /// "EL 5 (el5), Debian 11 (debian11), …": for messages naming what is supported.
    public static var supportedList: String { all.map { "\($0.name) (\($0.key))" }.joined(separator: ", ") }

    public static var el5: OSFamily { named("el5")! }

    /// RHEL and its rebuilds (CentOS, Rocky, AlmaLinux, Oracle Linux). What changes between releases:
    /// - the package and service managers (yum + SysV init up to EL6, systemd from EL7, dnf from EL8);
    /// - where memcached and the extensions come from (EPEL for memcached on EL5, for php-pecl-memcached on
    ///   EL6, EL7 and EL9);
    /// - which layer above php.ini resets the session handler to `files`: EL7's mod_php reads
    ///   /etc/httpd/conf.d/php.conf (`php_value session.save_handler "files"`); EL8 and EL9 serve PHP through
    ///   php-fpm, whose /etc/php-fpm.d/www.conf says `php_value[session.save_handler] = files`.
    static let elReleases: [OSFamily] = [
        el(version: 5, packages: YumPackages(tool: "yum"), services: SysVServices(),
           repositories: ["memcached": ["epel-release"], "php-pecl-memcache": ["epel-release"],
                          "php-pecl-memcached": ["epel-release"]],
           fpm: false, apacheOverride: false),
        el(version: 6, packages: YumPackages(tool: "yum"), services: SysVServices(),
           repositories: ["php-pecl-memcached": ["epel-release"]], fpm: false, apacheOverride: false),
        el(version: 7, packages: YumPackages(tool: "yum"), services: SystemdServices(),
           repositories: ["php-pecl-memcached": ["epel-release"]], fpm: false, apacheOverride: true),
        el(version: 8, packages: YumPackages(tool: "dnf"), services: SystemdServices(),
           repositories: [:], fpm: true, apacheOverride: false),
        el(version: 9, packages: YumPackages(tool: "dnf"), services: SystemdServices(),
           repositories: ["php-pecl-memcache": ["epel-release"], "php-pecl-memcached": ["epel-release"]],
           fpm: true, apacheOverride: false),
    ]

    static func el(version: Int, packages: YumPackages, services: any ServiceManager, repositories: [String: [String]],
                   fpm: Bool, apacheOverride: Bool) -> OSFamily {
        let phpReader = fpm ? "php-fpm" : "httpd"
        var settings = [ConfigFile.PHPSettings(path: "/etc/php.ini", restarts: phpReader)]
        if apacheOverride {
            settings.append(.init(path: "/etc/httpd/conf.d/php.conf", format: .apachePHPValue, restarts: "httpd"))
        }
        if fpm { settings.append(.init(path: "/etc/php-fpm.d/www.conf", format: .fpmPool, restarts: "php-fpm")) }
        return OSFamily(
            key: "el\(version)", name: "EL \(version)",
            // No os-release before EL7: /etc/redhat-release counts as ID "rhel" (PlatformDetection).
            match: PlatformMatch(ids: ["rhel", "centos", "rocky", "almalinux", "ol"], version: "\(version)"),
            packageManager: packages, serviceManager: services,
            repositories: repositories,
            memcachedPackages: ["memcached"],
            // `php` pulls in php-fpm on EL8+ (and the httpd config that hands .php files to it).
            webPackages: fpm ? ["httpd", "php", "php-fpm"] : ["httpd", "php"],
            extensionPackages: [.memcache: "php-pecl-memcache", .memcached: "php-pecl-memcached"],
            // iptables is part of every EL base install up to EL6, whose init script restores
            // /etc/sysconfig/iptables; from EL7 that script is the iptables-services package.
            firewallPackages: version >= 7 ? ["iptables-services"] : [],
            memcachedService: "memcached", webServices: fpm ? ["php-fpm", "httpd"] : ["httpd"],
            packagesStartServices: false,
            memcachedConfig: ConfigFile(path: "/etc/sysconfig/memcached", template: .memcachedSysconfig),
            memcachedUser: "memcached",
            phpSettingsFiles: settings,
            servingPHPIni: "/etc/php.ini",
            selinuxWebBooleans: ["httpd_can_network_memcache"], selinuxMemcachedPortType: "memcache_port_t",
            // From EL7 the rules are restored at boot only if iptables.service (iptables-services) is enabled.
            firewallPersistCommand: version >= 7 ? "service iptables save && systemctl enable iptables" : "service iptables save")
    }

    /// Debian and Ubuntu releases differ only in their PHP version (and so in package names and php.ini paths).
    static let debianReleases: [OSFamily] = [
        debian(key: "debian11", name: "Debian 11", match: PlatformMatch(ids: ["debian"], version: "11"), php: "7.4"),
        debian(key: "debian12", name: "Debian 12", match: PlatformMatch(ids: ["debian"], version: "12"), php: "8.2"),
        debian(key: "ubuntu22.04", name: "Ubuntu 22.04",
               match: PlatformMatch(ids: ["ubuntu"], version: "22.04", exactVersion: true), php: "8.1"),
        debian(key: "ubuntu24.04", name: "Ubuntu 24.04",
               match: PlatformMatch(ids: ["ubuntu"], version: "24.04", exactVersion: true), php: "8.3"),
    ]

    /// apt, systemd, Apache with mod_php of the release's PHP (its versioned packages, so the php.ini paths
    /// below are the ones that PHP reads even where another PHP is also available), memcached configured in
    /// /etc/memcached.conf (the unit runs systemd-memcached-wrapper on it; OPTIONS in the unit's environment
    /// would do nothing), rules restored at boot by netfilter-persistent from /etc/iptables/rules.v4.
    static func debian(key: String, name: String, match: PlatformMatch, php: String) -> OSFamily {
        OSFamily(
            key: key, name: name, match: match,
            packageManager: AptPackages(), serviceManager: SystemdServices(),
            repositories: [:],
            memcachedPackages: ["memcached"],
            webPackages: ["apache2", "libapache2-mod-php\(php)", "php\(php)-cli"],
            extensionPackages: [.memcache: "php\(php)-memcache", .memcached: "php\(php)-memcached"],
            firewallPackages: ["iptables", "iptables-persistent"],
            memcachedService: "memcached", webServices: ["apache2"], packagesStartServices: true,
            memcachedConfig: ConfigFile(path: "/etc/memcached.conf", template: .memcachedConf),
            memcachedUser: "memcache",
            // One php.ini per SAPI: Apache's serves pages; the CLI's is what `php` on the host (and verify's
            // CLI session check) reads.
            phpSettingsFiles: [.init(path: "/etc/php/\(php)/apache2/php.ini", restarts: "apache2"),
                               .init(path: "/etc/php/\(php)/cli/php.ini", restarts: nil)],
            servingPHPIni: "/etc/php/\(php)/apache2/php.ini",
            selinuxWebBooleans: [], selinuxMemcachedPortType: nil,
            firewallPersistCommand: "netfilter-persistent save")
    }
}
