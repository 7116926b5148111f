/// The supported families, as data (compare Ansible roles' vars/RedHat.yml beside vars/Debian.yml).
public enum OSFamilies {
    /// Every supported family, in the order README and error messages list them.
    public static let all: [OSFamily] = [el5] + debianReleases

    public static func named(_ key: String) -> OSFamily? { all.first { $0.key == key } }

    /// "EL 5 (el5), Debian 11 (debian11), …": for messages naming what is supported.
    public static var supportedList: String { all.map { "\($0.name) (\($0.key))" }.joined(separator: ", ") }

    /// CentOS/RHEL 5 (and the test cluster's EL5 profile): yum, rpm, chkconfig, SysV `service`, mod_php.
    public static let el5 = OSFamily(
        key: "el5", name: "EL 5",
        match: PlatformMatch(ids: ["rhel", "centos"], version: "5"),
        packageManager: YumPackages(tool: "yum"), serviceManager: SysVServices(),
        repositoryPackages: ["epel-release"],
        memcachedPackages: ["memcached"],
        webPackages: ["httpd", "php"],
        extensionPackages: [.memcache: "php-pecl-memcache", .memcached: "php-pecl-memcached"],
        // iptables is part of every EL5 base install; its init script restores /etc/sysconfig/iptables.
        firewallPackages: [],
        memcachedService: "memcached", webService: "httpd", packagesStartServices: false,
        memcachedConfig: ConfigFile(path: "/etc/sysconfig/memcached", template: .memcachedSysconfig),
        memcachedUser: "memcached",
        phpIniFiles: [.init(path: "/etc/php.ini", restarts: "httpd")],
        servingPHPIni: "/etc/php.ini",
        // EL's init script writes iptables-save to /etc/sysconfig/iptables, restored at boot and on restart.
        firewallPersistCommand: "service iptables save")

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
            repositoryPackages: [],
            memcachedPackages: ["memcached"],
            webPackages: ["apache2", "libapache2-mod-php\(php)", "php\(php)-cli"],
            extensionPackages: [.memcache: "php\(php)-memcache", .memcached: "php\(php)-memcached"],
            firewallPackages: ["iptables", "iptables-persistent"],
            memcachedService: "memcached", webService: "apache2", packagesStartServices: true,
            memcachedConfig: ConfigFile(path: "/etc/memcached.conf", template: .memcachedConf),
            memcachedUser: "memcache",
            // One php.ini per SAPI: Apache's serves pages; the CLI's is what `php` on the host (and verify's
            // CLI session check) reads.
            phpIniFiles: [.init(path: "/etc/php/\(php)/apache2/php.ini", restarts: "apache2"),
                          .init(path: "/etc/php/\(php)/cli/php.ini", restarts: nil)],
            servingPHPIni: "/etc/php/\(php)/apache2/php.ini",
            firewallPersistCommand: "netfilter-persistent save")
    }
}
