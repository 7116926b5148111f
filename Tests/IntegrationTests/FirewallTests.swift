import Foundation
import Testing

/// Issue 6's "Done when" on the namespace test cluster (EL5 profile): the real clusterctl binary over real SSH,
/// real iptables in each host's network namespace (behind EL5's 1.3.5 wrapper: no -C/-S/-w), real memcached
/// and PHP. Reachability is checked with real TCP connections (nc, curl) from the hosts and from the machine.
@Suite(.serialized) struct FirewallTests {
    static let memcachedPort = 11211

    // MARK: filtering, others' rules, persistence, idempotence, removed web host

    @Test func memcachedAnswersOnlyWebHostsOthersRulesSurviveAndASecondApplyChangesNothing() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2, other: 1) { cluster in
            let mc = try cluster.address("mc1"), web2 = try cluster.address("web2")
            // Someone else's rules, outside our chain: they must survive every apply.
            _ = try await cluster.run("mc1", "iptables -N OPS && iptables -A OPS -s 10.0.0.0/8 -j ACCEPT"
                          + " && iptables -A INPUT -p tcp --dport 2222 -j ACCEPT")

            let plan = try await clusterctl(["plan", "-i", cluster.inventoryPath])
            for expected in ["~ firewall chain CLUSTERCTL (chain CLUSTERCTL missing, no INPUT jump to CLUSTERCTL)",
                             "+-A CLUSTERCTL -s \(web2)/32 -p tcp -m tcp --dport 11211 -j ACCEPT",
                             "+-A CLUSTERCTL -p tcp -m tcp --dport 80 -j ACCEPT", "INPUT: -I INPUT 1 -j CLUSTERCTL",
                             "3 services, 3 firewall chains."] {
                #expect(plan.stdout.contains(expected), "plan lacks \(expected):\n\(plan.stdout)")
            }
            var logins: [String: Int] = [:]
            for host in ["mc1", "web1", "web2"] { logins[host] = try await cluster.sshdLogCount(host, "Accepted publickey for root ") }
            let apply = try await clusterctl(["apply", "-i", cluster.inventoryPath, "--yes"])
            try #require(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)")
            // No rule of the default templates can match SSH: each host's change went through the run's one
            // connection (no second one to check SSH, no snapshot or rollback armed).
            for host in ["mc1", "web1", "web2"] {
                #expect(try await cluster.sshdLogCount(host, "Accepted publickey for root ") == logins[host]! + 1,
                        "\(host): one SSH connection for the whole apply")
                #expect(try await cluster.ssh(host, "test -e /var/lib/clusterctl/firewall-previous.rules").status != 0)
            }

            // memcached: web hosts and mc1 itself yes; the other host and the machine (198.18.0.1) no.
            for web in ["web1", "web2"] {
                #expect(try await memcachedVersion(cluster, from: web, to: mc).hasPrefix("VERSION "), "\(web) → memcached")
            }
            #expect(try await memcachedVersion(cluster, from: "mc1", to: mc).hasPrefix("VERSION "), "mc1 → own address")
            #expect(try await cluster.ssh("other1", "nc -z -w 3 \(mc) 22").status == 0, "other1 reaches mc1 at all")
            #expect(try await cluster.ssh("other1", "nc -z -w 3 \(mc) \(Self.memcachedPort)").status != 0,
                    "other1 must not reach memcached")
            expectSuccess(try await runProcess("/usr/bin/nc", ["-z", "-w", "3", mc, "22"]))
            #expect(try await runProcess("/usr/bin/nc", ["-z", "-w", "3", mc, "\(Self.memcachedPort)"]).status != 0,
                    "the machine (198.18.0.1) must not reach memcached")
            // HTTP on the web hosts, from the machine and from the other host.
            for web in ["web1", "web2"] {
                let address = try cluster.address(web)
                #expect(try await httpStatus(address) != "000", "machine → \(web):80")
                #expect(try await cluster.run("other1", "curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://\(address)/")
                        != "000", "other1 → \(web):80")
            }

            // Our jump first and once; their chain, rule and the rest of INPUT untouched.
            let table = try await iptablesSave(cluster, "mc1")
            let input = table.split(separator: "\n").filter { $0.hasPrefix("-A INPUT ") }
            #expect(input == ["-A INPUT -j CLUSTERCTL", "-A INPUT -p tcp -m tcp --dport 2222 -j ACCEPT"])
            #expect(table.contains(":OPS - [0:0]\n") && table.contains("-A OPS -s 10.0.0.0/8 -j ACCEPT\n"))
            // Saved the EL way, and no rollback left armed.
            for host in ["mc1", "web1", "web2"] {
                let saved = try await cluster.run(host, "cat /etc/sysconfig/iptables")
                #expect(saved.contains("-A INPUT -j CLUSTERCTL\n") && saved.contains("-A CLUSTERCTL "), "\(host) saved")
                #expect(try await cluster.run(host, "grep -c 'service iptables save' /var/log/clusterctl-test/service.log")
                        == "1\n")
                #expect(try await cluster.ssh(host, "test -e /var/lib/clusterctl/firewall-rollback.armed").status != 0)
            }
            #expect(try await cluster.ssh("other1", "iptables-save | grep -c CLUSTERCTL").stdout == "0\n",
                    "a host without roles is not managed")

            // Converged: no firewall change; iptables-save byte-identical on every host across a second apply.
            let again = try await clusterctl(["plan", "-i", cluster.inventoryPath, "--detailed-exitcode"])
            #expect(again.status == 0, "\(again.stdout)")
            #expect(again.stdout.contains("0 services, 0 firewall chains."))
            var before: [String: String] = [:]
            for host in ["mc1", "web1", "web2"] { before[host] = try await iptablesSave(cluster, host) }
            expectSuccess(try await clusterctl(["apply", "-i", cluster.inventoryPath, "--yes"]))
            for host in ["mc1", "web1", "web2"] {
                #expect(try await iptablesSave(cluster, host) == before[host], "\(host): rules changed by a no-op apply")
                #expect(try await cluster.run(host, "grep -c 'service iptables save' /var/log/clusterctl-test/service.log")
                        == "1\n", "\(host): saved again although nothing changed")
            }

            // The OS restores the saved rules.
            _ = try await cluster.run("mc1", "service iptables restart")
            #expect(try await iptablesSave(cluster, "mc1") == before["mc1"])

            // A rule inserted above our jump by hand: the jump goes back to the top, once; the rule stays.
            _ = try await cluster.run("mc1", "iptables -I INPUT 1 -s 10.9.9.9 -j DROP")
            let moved = try await clusterctl(["plan", "-i", cluster.inventoryPath])
            #expect(moved.stdout.contains("~ firewall chain CLUSTERCTL (INPUT jump at rule 2, not 1)"), "\(moved.stdout)")
            expectSuccess(try await clusterctl(["apply", "-i", cluster.inventoryPath, "--yes"]))
            #expect(try await iptablesSave(cluster, "mc1").split(separator: "\n").filter { $0.hasPrefix("-A INPUT ") }
                    == ["-A INPUT -j CLUSTERCTL", "-A INPUT -s 10.9.9.9/32 -j DROP", "-A INPUT -p tcp -m tcp --dport 2222 -j ACCEPT"])

            // web2 leaves the inventory: its ACCEPT goes on the next apply, and memcached drops it.
            let smaller = try inventory(cluster, without: "web2")
            let shrink = try await clusterctl(["plan", "-i", smaller])
            #expect(shrink.stdout.contains("--A CLUSTERCTL -s \(web2)/32 -p tcp -m tcp --dport 11211 -j ACCEPT"), "\(shrink.stdout)")
            expectSuccess(try await clusterctl(["apply", "-i", smaller, "--yes"]))
            #expect(!(try await iptablesSave(cluster, "mc1")).contains("-s \(web2)/32"))
            #expect(try await cluster.ssh("web2", "nc -z -w 3 \(mc) \(Self.memcachedPort)").status != 0)
            #expect(try await memcachedVersion(cluster, from: "web1", to: mc).hasPrefix("VERSION "))
        }
    }

    // MARK: lock-out protection

    @Test func ruleThatDropsSSHFailsTheHostAndIsRolledBackByTheHost() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 1) { cluster in
            try #require(try await clusterctl(["apply", "-i", cluster.inventoryPath, "--yes"]).status == 0)
            let rulesBefore = try await iptablesSave(cluster, "web1")
            let savedBefore = try await cluster.run("web1", "cat /etc/sysconfig/iptables")

            // A template override that also drops SSH from everywhere.
            let templates = NSTemporaryDirectory() + "clusterctl-lockout-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: templates) }
            try FileManager.default.createDirectory(atPath: templates, withIntermediateDirectories: true)
            let bundled = try String(contentsOfFile: Self.bundledTemplate("firewall-web.rules.mustache"), encoding: .utf8)
            try (bundled + "-A {{firewallChain}} -p tcp -m tcp --dport 22 -j DROP\n")
                .write(toFile: templates + "/firewall-web.rules.mustache", atomically: true, encoding: .utf8)

            let apply = try await clusterctl(["apply", "-i", cluster.inventoryPath, "--yes", "--templates", templates,
                                              "--firewall-rollback-seconds", "8"])
            #expect(apply.status == 1)
            #expect(apply.stdout.contains("+-A CLUSTERCTL -p tcp -m tcp --dport 22 -j DROP"), "\(apply.stdout)")
            #expect(apply.stdout.contains("web1  failed: firewall CLUSTERCTL: firewall change cut SSH"), "\(apply.stdout)")
            #expect(apply.stdout.contains("the host restores its previous rules within 8 s; nothing was saved"))
            #expect(apply.stdout.contains("mc1   ok"))

            // The host rolls back by itself: SSH comes back (polled, no time asserted) with the previous rules.
            var reachable = false
            for _ in 0..<60 where !reachable {
                reachable = try await cluster.ssh("web1", "true").status == 0
                if !reachable { try await Task.sleep(for: .seconds(1)) }
            }
            try #require(reachable, "web1's SSH did not come back")
            #expect(try await iptablesSave(cluster, "web1") == rulesBefore)
            #expect(try await cluster.run("web1", "cat /etc/sysconfig/iptables") == savedBefore, "the cut rules were saved")
            #expect(try await cluster.run("web1", "cat /var/lib/clusterctl/firewall-rollback.log")
                .contains("restored the rules from before an apply"))
            // And the next plan wants the (overridden) change again: nothing pretends it happened.
            let plan = try await clusterctl(["plan", "-i", cluster.inventoryPath, "--templates", templates])
            #expect(plan.stdout.contains("~ firewall chain CLUSTERCTL (rules differ)"), "\(plan.stdout)")
        }
    }

    @Test func ruleThatCouldMatchSSHButDoesNotIsCheckedOverANewConnectionThenSaved() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 1) { cluster in
            // A template override with a rule that could match SSH (a source-bound DROP), but not from here.
            let templates = NSTemporaryDirectory() + "clusterctl-guarded-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: templates) }
            try FileManager.default.createDirectory(atPath: templates, withIntermediateDirectories: true)
            let bundled = try String(contentsOfFile: Self.bundledTemplate("firewall-web.rules.mustache"), encoding: .utf8)
            let guarded = "-A CLUSTERCTL -s 203.0.113.0/24 -j DROP"
            try (bundled + "-A {{firewallChain}} -s 203.0.113.0/24 -j DROP\n")
                .write(toFile: templates + "/firewall-web.rules.mustache", atomically: true, encoding: .utf8)
            let before = try await cluster.sshdLogCount("web1", "Accepted publickey for root ")
            expectSuccess(try await clusterctl(["apply", "-i", cluster.inventoryPath, "--yes", "--templates", templates,
                                                "--firewall-rollback-seconds", "8"]))
            // The protection ran: a snapshot, a second connection that disarmed the rollback, then the save.
            #expect(try await cluster.sshdLogCount("web1", "Accepted publickey for root ") == before + 2)
            #expect(try await cluster.ssh("web1", "test -s /var/lib/clusterctl/firewall-previous.rules").status == 0)
            #expect(try await cluster.ssh("web1", "test -e /var/lib/clusterctl/firewall-rollback.armed").status != 0)
            #expect(try await cluster.run("web1", "cat /etc/sysconfig/iptables").contains(guarded + "\n"))
            // Disarmed for good: past the rollback's time the rules are still the new ones.
            try await Task.sleep(for: .seconds(10))
            #expect(try await iptablesSave(cluster, "web1").contains(guarded + "\n"))
            #expect(try await cluster.ssh("web1", "test -e /var/lib/clusterctl/firewall-rollback.log").status != 0,
                    "no rollback fired")
            let plan = try await clusterctl(["plan", "-i", cluster.inventoryPath, "--templates", templates, "--detailed-exitcode"])
            #expect(plan.status == 0, "\(plan.stdout)")
        }
    }

    // MARK: helpers

    /// `iptables-save` on a host without the date comments and with zeroed counters.
    private func iptablesSave(_ cluster: TestCluster, _ host: String) async throws -> String {
        let output = try await cluster.exec(host, "iptables-save")
        try #require(output.status == 0, "\(host): iptables-save: \(output.stderr)")
        return output.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("#") }
            .map { $0.replacingOccurrences(of: #"\[\d+:\d+\]"#, with: "[0:0]", options: .regularExpression) }
            .joined(separator: "\n")
    }

    /// memcached's `version` answer, asked over TCP from `host`.
    private func memcachedVersion(_ cluster: TestCluster, from host: String, to address: String) async throws -> String {
        try await cluster.ssh(host, "printf 'version\\r\\nquit\\r\\n' | nc -w 5 \(address) \(Self.memcachedPort)").stdout
    }

    private func httpStatus(_ address: String) async throws -> String {
        try await runProcess("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                                               "http://\(address)/"]).stdout
    }

    static func bundledTemplate(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/ClusterKit/Templates/\(name)").path
    }

    /// The cluster's inventory without one host, written next to it.
    private func inventory(_ cluster: TestCluster, without host: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: cluster.inventoryPath))
        var json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var hosts = try #require(json["hosts"] as? [String: Any])   // keyed by host name
        try #require(hosts.removeValue(forKey: host) != nil)
        json["hosts"] = hosts
        let path = (cluster.inventoryPath as NSString).deletingLastPathComponent + "/inventory-without-\(host).json"
        try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: path))
        return path
    }
}
