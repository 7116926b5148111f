/// What a plan must say about sessions before it is applied: memcached keeps them in memory only, so a restart
/// empties the server, and a session whose only copy was there is gone (every user on it logged out).
public enum SessionRedundancyNotes {
    /// The session part of a plan (`Plan.session`) from the inventory and what it renders for a web host: the
    /// handler and save path (a template override is honoured); the redundancy lines depend on each host's
    /// family and are computed from it where they are checked.
    public static func session(inventory: Inventory, webSettings: [PHPIniSetting]) -> PlanSession {
        let keys = ["session.save_handler", "session.save_path"]
        let unquoted = webSettings.filter { keys.contains($0.key) }.map { setting -> (String, String) in
            let v = setting.value
            return (setting.key, v.count >= 2 && v.hasPrefix("\"") && v.hasSuffix("\"") ? String(v.dropFirst().dropLast()) : v)
        }
        return PlanSession(redundancy: inventory.php.sessionRedundancy,
                           settings: Dictionary(unquoted, uniquingKeysWith: { first, _ in first }),
                           memcachedPort: inventory.memcached.port,
                           webSources: inventory.webHosts.map(\.privateAddress))
    }

    /// One line per problem, naming the host.
    public static func warnings(for plan: Plan, handler: SessionHandler) -> [String] {
        let copies = plan.session.redundancy
        var warnings: [String] = []
        let restarting = plan.hosts.filter { hostPlan in
            guard let family = hostPlan.family, hostPlan.host.roles.contains(.memcache) else { return false }
            // A start (memcached not running) loses nothing more: the server is already empty.
            return hostPlan.changes.contains { $0.kind == .restartService && $0.service == family.memcachedService }
        }
        for hostPlan in restarting {
            let name = hostPlan.host.name
            if copies <= 1 {
                warnings.append("\(name): restarting memcached empties it: the sessions it holds have no other copy "
                                + "(php.sessionRedundancy 1) and are lost; their users must log in again")
            } else if let web = webFamilyWithoutReplication(plan, handler: handler) {
                warnings.append("\(name): restarting memcached empties it, and the sessions it holds have no other copy: "
                                + "\(web) keeps each session on one server")
            } else {
                // Measured with memcache 8.0 and memcached 3.2 (RollingApplyTests): neither reads a session's other
                // copy when its first server answers "not found"; `apply --serial` copies the sessions back first.
                warnings.append("\(name): restarting memcached empties it; `apply --serial N` cuts it off from the web "
                                + "hosts, restarts it and copies the sessions back from the other memcache hosts before "
                                + "the web hosts see it again (needs memcached 1.4.31 or later); without --serial the "
                                + "sessions whose first server it is are lost: the extensions read the empty server "
                                + "instead of their other copy")
            }
        }
        if copies > 1, restarting.count > 1 {
            warnings.append("memcached restarts on \(restarting.map(\.host.name).joined(separator: ", ")): "
                            + "`apply --serial N` restarts them one at a time; without it they restart together and every "
                            + "session is lost at once")
        }
        if copies > 1, let web = webFamilyWithoutReplication(plan, handler: handler) {
            warnings.append("php.sessionRedundancy \(copies) cannot be honoured: \(web) keeps each session on one "
                            + "server (the settings are written for newer builds of the extension, which read them)")
        }
        return warnings
    }

    /// "web1 (EL 5, php-pecl-memcache 2.2)" for the first web host whose family's extension cannot replicate.
    static func webFamilyWithoutReplication(_ plan: Plan, handler: SessionHandler) -> String? {
        for hostPlan in plan.hosts where hostPlan.host.roles.contains(.web) {
            guard let family = hostPlan.family else { continue }
            let ext = family.sessionExtension(handler)
            if !ext.replicates {
                return "\(hostPlan.host.name) (\(family.name), "
                    + ext.described(package: family.extensionPackages[handler] ?? handler.rawValue) + ")"
            }
        }
        return nil
    }
}
