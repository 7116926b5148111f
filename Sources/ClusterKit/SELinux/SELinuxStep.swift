/// SELinux on EL: unless it is disabled, httpd and php-fpm (both `httpd_t`) may connect to memcached only with
/// the boolean `httpd_can_network_memcache` on (off by default: sessions then fail while everything looks
/// configured), and memcached may bind a port other than 11211 only once it is labeled `memcache_port_t`.
/// Which booleans and port types apply is the family's data; Debian families have none.
enum SELinuxFacts {
    /// `getenforce` missing means no SELinux userland: reported as disabled.
    static func script(booleans: [String], ports: [String]) -> String {
        var lines = ["if command -v getenforce >/dev/null 2>&1; then echo \"selinux $(getenforce | tr 'A-Z' 'a-z')\"; "
                     + "else echo 'selinux disabled'; fi"]
        for boolean in booleans {
            let q = ShellQuote.quote(boolean)
            // A `case` on its output rather than `| grep`: no second process (none at all without getsebool).
            lines.append("case $(getsebool \(q) 2>/dev/null) in *'--> on') echo \"sebool \"\(q)\" on\" ;; "
                         + "*) echo \"sebool \"\(q)\" off\" ;; esac")
        }
        for port in ports {
            let parts = port.split(separator: "/").map(String.init)
            guard parts.count == 2 else { continue }
            let (type, number) = (ShellQuote.quote(parts[0]), ShellQuote.quote(parts[1]))
            // `semanage port -l` lists "TYPE  tcp  P1, P2-P3": one exact port in the tcp line of the type.
            lines.append("if semanage port -l 2>/dev/null | awk -v t=\(type) -v p=\(number) "
                         + "'$1 == t && $2 == \"tcp\" { for (i = 3; i <= NF; i++) { x = $i; sub(\",\", \"\", x); if (x == p) f = 1 } } END { exit !f }'; "
                         + "then echo \"seport \"\(ShellQuote.quote(port))\" labeled\"; else echo \"seport \"\(ShellQuote.quote(port))\" unlabeled\"; fi")
        }
        return lines.joined(separator: "\n")
    }
}

/// Turns the booleans on persistently (`setsebool -P`) and labels the ports, unless SELinux is disabled.
public struct SELinuxStep: PlanStep {
    public init() {}

    public func changes(desired: DesiredState, facts: HostFacts, earlier: [Change]) -> [Change] {
        guard let mode = facts.selinuxMode, mode != "disabled" else { return [] }
        var changes: [Change] = []
        for boolean in desired.selinuxBooleans where facts.selinuxBooleans[boolean] != true {
            changes.append(Change(kind: .setSELinuxBoolean, phase: .selinux, reason: "off (SELinux is \(mode))",
                                  selinux: boolean))
        }
        for port in desired.selinuxPorts where facts.selinuxPorts[port] != true {
            changes.append(Change(kind: .labelSELinuxPort, phase: .selinux, reason: "not labeled (SELinux is \(mode))",
                                  selinux: port))
        }
        return changes
    }

    static func command(for change: Change) -> String? {
        guard let value = change.selinux else { return nil }
        switch change.kind {
        case .setSELinuxBoolean:
            return "setsebool -P \(ShellQuote.quote(value)) on"
        case .labelSELinuxPort:
            let parts = value.split(separator: "/").map(String.init)
            guard parts.count == 2 else { return nil }
            let (type, port) = (ShellQuote.quote(parts[0]), ShellQuote.quote(parts[1]))
            // -a fails when another type already has the port: then -m moves it.
            return "semanage port -a -t \(type) -p tcp \(port) 2>/dev/null || semanage port -m -t \(type) -p tcp \(port)"
        default:
            return nil
        }
    }
}
