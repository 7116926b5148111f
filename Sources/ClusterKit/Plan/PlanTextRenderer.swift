/// Terraform-style text for a plan: changed hosts in detail (unified diffs indented under their file),
/// unchanged hosts in one line, failed hosts with their error, then the summary line.
public enum PlanTextRenderer {
    public static func render(_ plan: Plan) -> String {
        var out = ""
        for hostPlan in plan.hosts {
            let name = hostPlan.host.name
            let roles = hostPlan.host.sortedRoles.map(\.rawValue).joined(separator: ",")
            if let error = hostPlan.error {
                out += "! \(name): cannot plan: \(error)\n"
                continue
            }
            var os = hostPlan.osRelease.map { " [\($0)" + (hostPlan.family.map { ", \($0.key)" } ?? "") + "]" } ?? ""
            if let lock = hostPlan.runLock { os += " " + lockNote(lock) }
            if hostPlan.changes.isEmpty {
                out += "  \(name)\(os): no changes\n"
                continue
            }
            out += "~ \(name)" + (roles.isEmpty ? "" : " (\(roles))") + os + "\n"
            for change in hostPlan.changes { out += line(for: change) }
        }
        if !out.isEmpty { out += "\n" }
        for warning in plan.warnings { out += "! warning: \(warning)\n" }
        return out + plan.summary.line + "\n"
    }

    /// How the header shows a run lock: apply would wait for it (or fail), or take a stale one over.
    static func lockNote(_ lock: RunLockInfo) -> String {
        lock.stale ? "(stale run lock of \(lock), its SSH session gone: apply takes it over)"
            : "(locked by \(lock))"
    }

    static func line(for change: Change) -> String {
        switch change.kind {
        case .installPackage:
            return "    + package \(change.package ?? "?")" + (change.phase == .repository ? " (repository)" : "") + "\n"
        case .writeFile:
            guard let file = change.file else { return "" }
            return "    ~ file \(file.path) (\(change.reason ?? "changed"))\n" + indented(file.diff)
        case .configureFirewalld:
            guard let firewalld = change.firewalld else { return "" }
            return "    ~ firewalld zone \(firewalld.zone) (\(change.reason ?? "changed"))\n" + indented(firewalld.diff)
        case .setSELinuxBoolean:
            return "    + selinux boolean \(change.selinux ?? "?") on, persistently (\(change.reason ?? ""))\n"
        case .labelSELinuxPort:
            return "    + selinux port label \(change.selinux ?? "?") (\(change.reason ?? ""))\n"
        case .enableService:
            return "    + enable \(change.service ?? "?") at boot\n"
        case .startService:
            return "    > start \(change.service ?? "?") (\(change.reason ?? ""))\n"
        case .restartService:
            return "    ↻ restart \(change.service ?? "?") (\(change.reason ?? ""))\n"
        case .replaceFirewallChain:
            guard let firewall = change.firewall else { return "" }
            var text = "    ~ firewall chain \(firewall.chain) (\(change.reason ?? "changed"))\n" + indented(firewall.diff)
            if firewall.movesJump { text += "        INPUT: -I INPUT 1 -j \(firewall.chain) (first rule, once)\n" }
            return text
        }
    }

    /// A diff's lines, indented under the change they belong to.
    static func indented(_ diff: String) -> String {
        diff.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { "        \($0)\n" }.joined()
    }
}
