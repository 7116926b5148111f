/// What to find out about one host: derived from its desired state, so the facts script asks exactly about
/// the packages, services and files the plan needs. Stored in saved plans so `apply plan.json` runs the very
/// same script again and can compare fingerprints.
public struct FactsQuery: Sendable, Equatable, Codable {
    public var packages: [String]
    public var services: [String]
    public var files: [String]
    /// Whether to capture `iptables-save` (the firewall step, issue 6).
    public var firewall: Bool
    /// SELinux booleans whose state to report (with the SELinux mode), e.g. `httpd_can_network_memcache`.
    public var selinuxBooleans: [String]
    /// TCP ports whose SELinux type to check, as `type/port` (`memcache_port_t/11311`).
    public var selinuxPorts: [String]

    /// Asks nothing (a host that could not be planned).
    public static let none = FactsQuery(packages: [], services: [], files: [], firewall: false)

    public init(packages: [String], services: [String], files: [String], firewall: Bool,
                selinuxBooleans: [String] = [], selinuxPorts: [String] = []) {
        self.packages = packages
        self.services = services
        self.files = files
        self.firewall = firewall
        self.selinuxBooleans = selinuxBooleans
        self.selinuxPorts = selinuxPorts
    }

    enum CodingKeys: String, CodingKey { case packages, services, files, firewall, selinuxBooleans, selinuxPorts }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(packages: try c.decode([String].self, forKey: .packages), services: try c.decode([String].self, forKey: .services),
                  files: try c.decode([String].self, forKey: .files), firewall: try c.decode(Bool.self, forKey: .firewall),
                  selinuxBooleans: try c.decodeIfPresent([String].self, forKey: .selinuxBooleans) ?? [],
                  selinuxPorts: try c.decodeIfPresent([String].self, forKey: .selinuxPorts) ?? [])
    }

    public var asksSELinux: Bool { !selinuxBooleans.isEmpty || !selinuxPorts.isEmpty }
}

/// One family a host may turn out to be, with what to ask if it is: the desired state differs per family
/// (package names, paths), so the facts script carries one query per candidate and runs the one that matches.
public struct FactsCandidate: Sendable, Equatable {
    public var family: OSFamily
    public var query: FactsQuery

    public init(family: OSFamily, query: FactsQuery) {
        self.family = family
        self.query = query
    }
}

/// The single POSIX-sh script that gathers all facts of a host in one exec (no Python, no bash-isms; EL5's
/// coreutils 5.97 suffices): it recognises the OS family (`PlatformDetection`), then asks what that family's
/// query needs. Output is line records; byte content (files, iptables) is hex from `od`, so any byte, a
/// missing final newline or a line that looks like a record survives the trip:
///
///     clusterctl-facts 2
///     os CentOS release 5.11 (Final)                           (os-release's PRETTY_NAME on newer hosts)
///     family el5                                               (or: family unsupported)
///     lock-serial ID|none                                      (the last run that took the lock: RunLockScripts)
///     lock held|stale clusterctl-run-lock 1;id=…                (only while a run lock exists: RunLockInfo)
///     package memcached installed|absent
///     service memcached enabled|disabled running|stopped
///     file present 644 root root /etc/sysconfig/memcached     (mode, owner, group, then the path)
///     begin-content
///      50 4f 52 54 ...                                         (od -An -v -tx1)
///     end-content
///     file absent /etc/php.ini
///     begin-iptables / hex / end-iptables     or     iptables missing
///     ufw active                                               (only where ufw is installed and active)
///     firewalld running                                        (only where firewalld runs)
///     selinux enforcing|permissive|disabled                    (SELinuxFacts, when the query asks)
///     sebool httpd_can_network_memcache on|off
///     seport memcache_port_t/11311 labeled|unlabeled
///     end-facts
///
/// A host of a family that is not among the candidates reports only `os` and `family`.
/// Nothing volatile is kept (no pids; iptables-save's date comments and packet counters are dropped by the
/// parser, which is cheaper than a grep and a sed on every host) but the `lock` and `lock-serial` lines, which
/// the fingerprint leaves out: an unchanged host yields the same fingerprint, which detects stale
/// saved plans.
public enum FactsScript {
    public static let header = "clusterctl-facts 2"

    /// `root`: where detection finds /etc (tests only).
    public static func script(for candidates: [FactsCandidate], root: String = "") -> String {
        var lines = [
            "LC_ALL=C; export LC_ALL",
            "echo '\(header)'",
            PlatformDetection.script(families: OSFamilies.all, root: root),
            RunLockScripts.factsCommands,
            "case $cct_family in",
        ]
        for candidate in candidates {
            lines += branch(candidate.query, family: candidate.family, root: root)
        }
        lines.append("esac")
        lines.append("echo end-facts")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Appends to `command` (an install) the facts of `query` on a host already known to be `family`, run
    /// when the command succeeds: the files packages may just have created or replaced, read in the same exec
    /// (no second shell, no detection). `refreshedFacts` finds the report after the command's own output.
    public static func followedByRefresh(_ command: String, query: FactsQuery, family: OSFamily) -> String {
        let lines = ["cct_family=\(ShellQuote.quote(family.key))", "echo \"family $cct_family\"", "case $cct_family in"]
            + branch(query, family: family) + ["esac", "echo end-facts"]
        return command + refreshSeparator + "\n" + lines.joined(separator: "\n") + "\n}"
    }

    /// The `case $cct_family in` branch that asks `query` on a host of `family`.
    private static func branch(_ query: FactsQuery, family: OSFamily, root: String = "") -> [String] {
        [ShellQuote.quote(family.key) + ")", queryCommands(query, family: family, root: root), ";;"]
    }

    /// Where `followedByRefresh` appends to the command.
    public static let refreshSeparator = " && {\necho '\(header)'"

    /// The report `followedByRefresh` printed, from its last header line on (the command's output precedes it).
    public static func refreshedFacts(_ stdout: [UInt8]) -> [UInt8]? {
        let marker = Array((header + "\n").utf8)
        var found: Int?
        var start = 0
        while start + marker.count <= stdout.count {
            if stdout[start..<start + marker.count].elementsEqual(marker) { found = start }
            guard let newline = stdout[start...].firstIndex(of: 10) else { break }
            start = newline + 1
        }
        return found.map { Array(stdout[$0...]) }
    }

    static func queryCommands(_ query: FactsQuery, family: OSFamily, root: String = "") -> String {
        var lines: [String] = []
        if !query.packages.isEmpty {
            lines.append(family.packageManager.factsCommand(query.packages))
        }
        for service in query.services {
            lines.append(family.serviceManager.factsCommand(ShellQuote.quote(service), root: root))
        }
        for path in query.files {
            lines.append(fileFacts(ShellQuote.quote(path)))
        }
        if query.asksSELinux {
            lines.append(SELinuxFacts.script(booleans: query.selinuxBooleans, ports: query.selinuxPorts))
        }
        if query.firewall {
            lines.append("""
            if command -v iptables-save >/dev/null 2>&1; then
              echo begin-iptables
              iptables-save 2>/dev/null | od -An -v -tx1
              echo end-iptables
            else echo 'iptables missing'; fi
            if command -v ufw >/dev/null 2>&1 && ufw status 2>/dev/null | grep -q '^Status: active'; then echo 'ufw active'; fi
            if command -v firewall-cmd >/dev/null 2>&1 && [ "$(firewall-cmd --state 2>/dev/null)" = running ]; then
              echo 'firewalld running'
              echo begin-firewalld-runtime; firewall-cmd --list-all 2>&1 | od -An -v -tx1; echo end-firewalld-runtime
              echo begin-firewalld-permanent; firewall-cmd --permanent --list-all 2>&1 | od -An -v -tx1; echo end-firewalld-permanent
            fi
            """)
        }
        return lines.joined(separator: "\n")
    }

    /// `stat -c` exists on EL5 and busybox; `ls -ld` (symbolic mode) is the fallback the parser understands.
    private static func fileFacts(_ quotedPath: String) -> String {
        """
        f=\(quotedPath)
        if [ -f "$f" ]; then
          s=$(stat -c '%a %U %G' "$f" 2>/dev/null) || s=$(ls -ld "$f" | awk '{print $1, $3, $4}')
          echo "file present $s $f"
          echo begin-content
          od -An -v -tx1 "$f" || { echo "clusterctl: cannot read $f" >&2; exit 3; }
          echo end-content
        else echo "file absent $f"; fi
        """
    }
}
