/// Everything that differs between operating-system families: package names, paths and the commands that
/// query and change packages and services. The engine (facts, plan, apply) only talks to this seam, so
/// another family (Debian, EL7 with systemd) is one more conforming type.
///
/// Every command returned here is a complete POSIX-sh command line with every argument quoted.
public protocol OSFamily: Sendable {
    /// Short identifier used in saved plans ("el").
    var identifier: String { get }
    /// Repository package installed first, before any package that comes from it (EPEL on EL).
    var repositoryPackages: [String] { get }
    func packages(for roles: Set<Role>, sessionHandler: SessionHandler) -> [String]
    /// Service names per role, in start order.
    func services(for roles: Set<Role>) -> [String]
    /// Which service must restart when the file at `path` changes (nil: none).
    func service(restartedBy path: String) -> String?
    var phpIniPath: String { get }

    /// Facts-script fragment printing `package NAME installed|absent` for `package` (already quoted).
    func packageFactsCommand(_ quotedPackage: String) -> String
    /// Facts-script fragment printing `service NAME enabled|disabled running|stopped`.
    func serviceFactsCommand(_ quotedService: String) -> String

    func installCommand(_ packages: [String]) -> String
    func enableCommand(_ service: String) -> String
    func startCommand(_ service: String) -> String
    func restartCommand(_ service: String) -> String
    /// Saves the running iptables rules where the OS restores them from at boot and on service restart.
    var firewallPersistCommand: String { get }
}

/// CentOS/RHEL 5 (and the test cluster's EL5 profile): yum, rpm, chkconfig, SysV `service`.
public struct ELFamily: OSFamily {
    public init() {}

    public var identifier: String { "el" }
    public var repositoryPackages: [String] { ["epel-release"] }
    public var phpIniPath: String { "/etc/php.ini" }

    public func packages(for roles: Set<Role>, sessionHandler: SessionHandler) -> [String] {
        var result: [String] = []
        if roles.contains(.memcache) { result.append("memcached") }
        if roles.contains(.web) { result += ["httpd", "php", sessionHandler.elPackage] }
        return result
    }

    public func services(for roles: Set<Role>) -> [String] {
        var result: [String] = []
        if roles.contains(.memcache) { result.append("memcached") }
        if roles.contains(.web) { result.append("httpd") }
        return result
    }

    public func service(restartedBy path: String) -> String? {
        if path == "/etc/sysconfig/memcached" { return "memcached" }
        if path == phpIniPath || path.hasPrefix("/etc/php.d/") || path.hasPrefix("/etc/httpd/") { return "httpd" }
        return nil
    }

    public func packageFactsCommand(_ p: String) -> String {
        "if rpm -q \(p) >/dev/null 2>&1; then echo \"package \"\(p)\" installed\"; else echo \"package \"\(p)\" absent\"; fi"
    }

    /// Enabled = on in runlevel 3 (what `chkconfig NAME on` sets, and the EL server default runlevel).
    /// Running = `service NAME status` exits 0 (LSB). Only the states are printed, never pids, so facts of
    /// an unchanged host are byte-identical between runs (the saved-plan fingerprint depends on that).
    public func serviceFactsCommand(_ s: String) -> String {
        """
        if chkconfig --list \(s) 2>/dev/null | grep -q '[[:space:]]3:on'; then e=enabled; else e=disabled; fi
        if service \(s) status >/dev/null 2>&1; then r=running; else r=stopped; fi
        echo "service "\(s)" $e $r"
        """
    }

    /// EL5's yum exits 0 when a package is unavailable ("No package P available."), so the install is
    /// checked with `rpm -q`, which exits with the number of packages missing.
    public func installCommand(_ packages: [String]) -> String {
        "yum -y install " + ShellQuote.join(packages) + " && rpm -q " + ShellQuote.join(packages)
    }
    public func enableCommand(_ service: String) -> String { "chkconfig " + ShellQuote.quote(service) + " on" }
    public func startCommand(_ service: String) -> String { "service " + ShellQuote.quote(service) + " start" }
    public func restartCommand(_ service: String) -> String { "service " + ShellQuote.quote(service) + " restart" }
    /// EL's init script writes `iptables-save` to /etc/sysconfig/iptables, which `service iptables start`
    /// (at boot, on restart) restores.
    public var firewallPersistCommand: String { "service iptables save" }
}
