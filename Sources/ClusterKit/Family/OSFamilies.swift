/// The supported families, as data (compare Ansible roles' vars/RedHat.yml beside vars/Debian.yml).
public enum OSFamilies {
    /// Every supported family, in the order README and error messages list them.
    public static let all: [OSFamily] = elReleases + debianReleases

    public static func named(_ key: String) -> OSFamily? { all.first { $0.key == key } }

    /// The families the inventory's `os` admits: the release and its variants ("debian12", "debian12+fpm").
    public static func releases(_ os: String) -> [OSFamily] { all.filter { $0.release == os } }

    /// The releases, without variants ("el5", …, "debian12", …): what the inventory's `os` takes.
    public static var releaseKeys: [String] { all.filter { $0.key == $0.release }.map(\.key) }

    /// "EL 5 (el5), Debian 11 (debian11), …": for messages naming what is supported.
    public static var supportedList: String {
        all.filter { $0.key == $0.release }.map { "\($0.name) (\($0.key))" }.joined(separator: ", ")
    }

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
        var family = elFamily(version: version, packages: packages, services: services, repositories: repositories,
                              fpm: fpm, apacheOverride: apacheOverride)
        switch version {
        case 9:
            family.installHints["php-pecl-memcached"] = "on EL9 php-pecl-memcached (EPEL) needs libmemcached-awesome from "
                + "the CRB repository: enable it (`dnf config-manager --set-enabled crb`, or `crb enable`), then apply again"
        case 8:
            let remi = "EPEL 8 has no PHP extensions: install the Remi repository (remi-release) and enable its PHP module, then apply again"
            family.installHints["php-pecl-memcache"] = remi
            family.installHints["php-pecl-memcached"] = remi
        default:
            break
        }
        // What EPEL 5, EL 6/7 base and EPEL 6/7 ship (SessionExtension); EL 8 (Remi) and EPEL 9 have the newest.
        switch version {
        case 5: family.sessionExtensionLines = [.memcache: .memcache2, .memcached: .memcached1]
        case 6: family.sessionExtensionLines = [.memcache: .memcache3, .memcached: .memcached1]
        case 7: family.sessionExtensionLines = [.memcache: .memcache3, .memcached: .memcached2]
        default: break
        }
        return family
    }

    private static func elFamily(version: Int, packages: YumPackages, services: any ServiceManager,
                                 repositories: [String: [String]], fpm: Bool, apacheOverride: Bool) -> OSFamily {
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
            // /etc/sysconfig/iptables; from EL7 that script is the iptables-services package, which EL9 only
            // provides through iptables-nft-services (`rpm -q iptables-services` says it is not installed).
            firewallPackages: version >= 9 ? ["iptables-nft-services"] : version >= 7 ? ["iptables-services"] : [],
            memcachedService: "memcached", webServices: fpm ? ["php-fpm", "httpd"] : ["httpd"],
            packagesStartServices: false,
            memcachedConfig: ConfigFile(path: "/etc/sysconfig/memcached", template: .memcachedSysconfig),
            memcachedUser: "memcached",
            phpSettingsFiles: settings,
            servingPHPIni: "/etc/php.ini",
            selinuxWebBooleans: ["httpd_can_network_memcache"], selinuxMemcachedPortType: "memcache_port_t",
            // semanage is not in a minimal install.
            selinuxPortTools: version >= 8 ? ["policycoreutils-python-utils"] : ["policycoreutils-python"],
            // From EL7 the rules are restored at boot only if iptables.service (iptables-services) is enabled.
            firewallPersistCommand: version >= 7 ? "service iptables save && systemctl enable iptables" : "service iptables save")
    }

    /// Debian and Ubuntu releases differ only in their PHP version (and so in package names and php.ini paths);
    /// each comes as mod_php and, where Apache already hands PHP to php-fpm, as its `+fpm` variant.
    static let debianReleases: [OSFamily] = [
        ("debian11", "Debian 11", ["debian"], "11", false, "7.4"), ("debian12", "Debian 12", ["debian"], "12", false, "8.2"),
        ("ubuntu22.04", "Ubuntu 22.04", ["ubuntu"], "22.04", true, "8.1"),
        ("ubuntu24.04", "Ubuntu 24.04", ["ubuntu"], "24.04", true, "8.3"),
    ].flatMap { key, name, ids, version, exact, php in
        [true, false].map { fpm in
            debian(key: key + (fpm ? "+fpm" : ""), name: name + (fpm ? " (php-fpm)" : ""),
                   match: PlatformMatch(ids: ids, version: version, exactVersion: exact,
                                        whenFileExists: fpm ? "/etc/apache2/conf-enabled/php\(php)-fpm.conf" : nil),
                   php: php, fpm: fpm)
        }
    }

    /// apt, systemd, Apache with mod_php of the release's PHP (its versioned packages, so the php.ini paths
    /// below are the ones that PHP reads even where another PHP is also available), memcached configured in
    /// /etc/memcached.conf (the unit runs systemd-memcached-wrapper on it; OPTIONS in the unit's environment
    /// would do nothing), rules restored at boot by netfilter-persistent from /etc/iptables/rules.v4.
    /// `fpm`: the host already serves PHP through php-fpm (Apache's proxy_fcgi handing .php files to the pool):
    /// keep it that way — php-fpm instead of mod_php (installing libapache2-mod-php would switch Apache to
    /// prefork and take PHP over), session settings in FPM's php.ini, php-fpm restarted when they change.
    static func debian(key: String, name: String, match: PlatformMatch, php: String, fpm: Bool) -> OSFamily {
        let sapi = fpm ? "fpm" : "apache2", phpService = fpm ? "php\(php)-fpm" : "apache2"
        return OSFamily(
            key: key, name: name, match: match,
            packageManager: AptPackages(), serviceManager: SystemdServices(),
            repositories: [:],
            memcachedPackages: ["memcached"],
            webPackages: ["apache2", fpm ? "php\(php)-fpm" : "libapache2-mod-php\(php)", "php\(php)-cli"],
            extensionPackages: [.memcache: "php\(php)-memcache", .memcached: "php\(php)-memcached"],
            firewallPackages: ["iptables", "iptables-persistent"],
            memcachedService: "memcached", webServices: fpm ? [phpService, "apache2"] : ["apache2"],
            packagesStartServices: true,
            memcachedConfig: ConfigFile(path: "/etc/memcached.conf", template: .memcachedConf),
            memcachedUser: "memcache",
            // One php.ini per SAPI: Apache's serves pages; the CLI's is what `php` on the host (and verify's
            // CLI session check) reads.
            phpSettingsFiles: [.init(path: "/etc/php/\(php)/\(sapi)/php.ini", restarts: phpService),
                               .init(path: "/etc/php/\(php)/cli/php.ini", restarts: nil)],
            servingPHPIni: "/etc/php/\(php)/\(sapi)/php.ini",
            selinuxWebBooleans: [], selinuxMemcachedPortType: nil, selinuxPortTools: [],
            firewallPersistCommand: "netfilter-persistent save")
    }
}
