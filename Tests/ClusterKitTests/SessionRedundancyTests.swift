import Testing
@testable import ClusterKit

/// `php.sessionRedundancy`: validation, the settings each extension line gets, plan's warnings, how
/// `apply --serial` batches hosts and the scripts `verify --failover` runs. The behaviour itself is proven on the
/// test cluster (FailoverTests, RollingApplyTests).
@Suite struct SessionRedundancyTests {
    static let twoMemcache = #"{ "mc1": { "roles": ["memcache"], "address": "203.0.113.10", "privateAddress": "10.180.0.5" }, "#
        + #""mc2": { "roles": ["memcache"], "address": "203.0.113.11", "privateAddress": "10.180.0.6" }, "#
        + #""web1": { "roles": ["web"], "address": "203.0.113.21", "privateAddress": "10.180.0.11" } }"#

    @Test func redundancyIsValidatedAgainstTheMemcacheHosts() throws {
        let ok = try InventoryLoader.load(text: inventoryJSON(top: #""php": { "sessionRedundancy": 2 }"#, hosts: Self.twoMemcache),
                                          file: "inv.json")
        #expect(ok.php.sessionRedundancy == 2)
        #expect(try InventoryLoader.load(text: inventoryJSON(), file: "inv.json").php.sessionRedundancy == 1)

        for (json, message) in [
            (inventoryJSON(top: #""php": { "sessionRedundancy": 3 }"#, hosts: Self.twoMemcache),
             "3 copies of each session need 3 memcache hosts; the inventory has 2 (at most 2)"),
            (inventoryJSON(top: #""php": { "sessionRedundancy": 0 }"#), "must be positive, found 0"),
            (inventoryJSON(top: #""php": { "sessionRedundancy": "2" }"#), "must be an integer, found a string"),
        ] {
            do {
                _ = try InventoryLoader.load(text: json, file: "inv.json")
                Issue.record("accepted: \(json)")
            } catch {
                #expect(error.problems.map(\.path) == ["php.sessionRedundancy"])
                #expect(error.problems.first?.message == message)
                #expect(error.problems.first?.position?.line == 1)
            }
        }
    }

    @Test func eachExtensionLineGetsItsOwnSettings() {
        func lines(_ line: SessionExtension.Line, _ copies: Int) -> [String] {
            SessionExtension(line.rawValue.hasPrefix("1") || line == .memcached2 || line == .memcached3 ? .memcached : .memcache, line)
                .settings(copies: copies).map { "\($0.key) = \($0.value)" }
        }
        // memcache 3.0 keeps session_redundancy - 1 copies; 4.0.5.2 and 8.x keep session_redundancy.
        #expect(lines(.memcache3, 2).first == "memcache.session_redundancy = 3")
        #expect(lines(.memcache4, 2).first == "memcache.session_redundancy = 2")
        #expect(lines(.memcache4, 1) == ["memcache.session_redundancy = 1", "memcache.allow_failover = 1",
                                         "memcache.hash_strategy = consistent"])
        #expect(lines(.memcached2, 2) == ["memcached.sess_binary = 1", "memcached.sess_number_of_replicas = 1",
                                          "memcached.sess_consistent_hash = 1", "memcached.sess_remove_failed = 1"])
        #expect(lines(.memcached3, 3) == ["memcached.sess_binary_protocol = 1", "memcached.sess_number_of_replicas = 2",
                                          "memcached.sess_consistent_hash = 1", "memcached.sess_remove_failed_servers = 1",
                                          "memcached.sess_server_failure_limit = 1"])
        #expect(!SessionExtension(.memcache, .memcache2).replicates && !SessionExtension(.memcached, .memcached1).replicates)
    }

    @Test func familiesNameTheLineTheyShip() throws {
        func line(_ key: String, _ handler: SessionHandler) throws -> SessionExtension.Line {
            try #require(OSFamilies.named(key)).sessionExtension(handler).line
        }
        #expect(try line("el5", .memcache) == .memcache2)
        #expect(try line("el6", .memcache) == .memcache3)
        #expect(try line("el7", .memcache) == .memcache3)
        #expect(try line("el7", .memcached) == .memcached2)
        #expect(try line("el9", .memcache) == .memcache4)
        #expect(try line("debian11", .memcached) == .memcached3)
        #expect(try line("debian12+fpm", .memcache) == .memcache4)
    }

    @Test func renderWritesTheFamilysLines() throws {
        let inventory = try InventoryLoader.load(
            text: inventoryJSON(top: #""php": { "sessionRedundancy": 2 }"#, hosts: Self.twoMemcache), file: "inv.json")
        let web1 = try #require(inventory.host(named: "web1"))
        let renderer = Renderer(templates: try .bundled())
        let el7 = try renderer.render(web1, in: inventory, family: try #require(OSFamilies.named("el7")))
        #expect(el7.phpIniSettings.contains(PHPIniSetting(key: "memcache.session_redundancy", value: "3")))
        let debian = try renderer.render(web1, in: inventory, family: try #require(OSFamilies.named("debian12")))
        #expect(debian.phpIniSettings.contains(PHPIniSetting(key: "memcache.session_redundancy", value: "2")))
    }

    static func hostPlan(_ name: String, _ roles: Set<Role>, family: String, changes: [Change]) -> HostPlan {
        HostPlan(host: Host(name: name, roles: roles, address: "10.0.0.\(name.count)", privateAddress: "10.0.0.1",
                            ssh: SSHSettings()),
                 family: OSFamilies.named(family), query: .none, fingerprint: "x", changes: changes)
    }

    @Test func planWarnsWhenAMemcachedRestartLosesSessions() {
        let restart = Change.restart("memcached", reason: "config changed: /etc/memcached.conf")
        var plan = Plan(hosts: [Self.hostPlan("mc1", [.memcache], family: "debian12", changes: [restart]),
                                Self.hostPlan("mc2", [.memcache], family: "debian12", changes: [restart]),
                                Self.hostPlan("web1", [.web], family: "debian12", changes: [])])
        plan.session = PlanSession(redundancy: 1)
        let single = SessionRedundancyNotes.warnings(for: plan, handler: .memcache)
        #expect(single.first == "mc1: restarting memcached empties it: the sessions it holds have no other copy "
                + "(php.sessionRedundancy 1) and are lost; their users must log in again")
        plan.session.redundancy = 2
        let double = SessionRedundancyNotes.warnings(for: plan, handler: .memcache)
        #expect(double.contains { $0.hasPrefix("mc2: restarting memcached empties it; `apply --serial N` cuts it off from the web hosts") })
        #expect(double.contains { $0.hasPrefix("memcached restarts on mc1, mc2: `apply --serial N` restarts them one at a time") })
        plan.warnings = double
        #expect(PlanTextRenderer.render(plan).contains("! warning: mc1: restarting memcached empties it"))
        #expect(PlanDocument(plan).plan == plan)

        // EL 5's extension cannot keep two copies at all: said once, naming the host and the package.
        plan.hosts[2] = Self.hostPlan("web1", [.web], family: "el5", changes: [])
        #expect(SessionRedundancyNotes.warnings(for: plan, handler: .memcache).last
                == "php.sessionRedundancy 2 cannot be honoured: web1 (EL 5, php-pecl-memcache 2.2) keeps each session on "
                   + "one server (the settings are written for newer builds of the extension, which read them)")
        // Nothing restarts, nothing to say.
        plan.hosts = [Self.hostPlan("mc1", [.memcache], family: "debian12", changes: [])]
        #expect(SessionRedundancyNotes.warnings(for: plan, handler: .memcache).isEmpty)
    }

    @Test func serialBatchesMemcacheHostsAloneOnlyWithASecondCopy() {
        let mcRestart = Change.restart("memcached", reason: "config changed")
        let webRestart = Change.restart("apache2", reason: "config changed")
        var plan = Plan(hosts: [Self.hostPlan("mc1", [.memcache], family: "debian12", changes: [mcRestart]),
                                Self.hostPlan("mc2", [.memcache], family: "debian12", changes: [mcRestart]),
                                Self.hostPlan("mc3", [.memcache], family: "debian12", changes: []),
                                Self.hostPlan("web1", [.web], family: "debian12", changes: [webRestart]),
                                Self.hostPlan("web2", [.web], family: "debian12", changes: [webRestart]),
                                Self.hostPlan("web3", [.web], family: "debian12", changes: [webRestart]),
                                Self.hostPlan("web4", [.web], family: "debian12", changes: [])])
        func names(_ size: Int) -> [[String]] {
            RollingApplier.batches(plan, size: size).map { $0.map { plan.hosts[$0].host.name } }
        }
        plan.session.redundancy = 2
        #expect(names(2) == [["mc1"], ["mc2"], ["mc3", "web4"], ["web1", "web2"], ["web3"]])
        plan.session.redundancy = 1
        #expect(names(1) == [["mc1", "mc2"], ["mc3", "web4"], ["web1"], ["web2"], ["web3"]])
    }

    @Test func failoverArmsItsGuardBeforeCuttingAndRemovesEveryCopy() throws {
        let cut = FailoverCheck.cutOffScript(sources: ["10.0.0.11", "10.0.0.12"], port: 11211, guardSeconds: 120)
        let guardAt = try #require(cut.range(of: "nohup sh -c")).lowerBound
        let firstInsert = try #require(cut.range(of: "iptables -I INPUT 1 -s 10.0.0.11/32 -p tcp --dport 11211 -j REJECT --reject-with tcp-reset")).lowerBound
        #expect(guardAt < firstInsert)
        #expect(cut.contains("sleep 120; while iptables -D INPUT -s 10.0.0.11/32 -p tcp --dport 11211"))
        #expect(cut.hasSuffix("echo CUT\n"))
        let restore = FailoverCheck.restoreScript(sources: ["10.0.0.12"], port: 11211)
        #expect(restore.contains("while iptables -D INPUT -s 10.0.0.12/32 -p tcp --dport 11211 -j REJECT --reject-with tcp-reset 2>/dev/null; do :; done"))
        #expect(restore.contains("kill \"$(cat /var/lib/clusterctl/failover-guard.pid)\""))
    }
}
