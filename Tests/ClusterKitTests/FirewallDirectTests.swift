import Testing
@testable import ClusterKit

/// A firewall change none of whose rules can match SSH is applied, saved and read back in one exec of the
/// run's connection (`SSHSafety`, `FirewallScripts.directScript`); any other keeps the lock-out protection.
@Suite struct FirewallDirectTests {
    @Test(arguments: [
        ("-A CLUSTERCTL -i lo -p tcp -m tcp --dport 11211 -j ACCEPT", true),
        ("-A CLUSTERCTL -s 198.18.0.21/32 -p tcp -m tcp --dport 11211 -j ACCEPT", true),
        ("-A CLUSTERCTL -p tcp -m tcp --dport 11211 -j DROP", true),
        ("-A CLUSTERCTL -p udp -m udp --dport 11211 -j DROP", true),
        ("-A CLUSTERCTL -p udp -m udp --dport 22 -j DROP", true),            // SSH is TCP
        ("-A CLUSTERCTL -p tcp -m tcp --dport 80 -j ACCEPT", true),
        ("-A CLUSTERCTL -s 10.0.0.0/8 -j ACCEPT", true),
        ("-A CLUSTERCTL -j RETURN", true),
        ("-A CLUSTERCTL -p tcp -m tcp --dport 11211 -j REJECT --reject-with tcp-reset", true),
        ("-A CLUSTERCTL -p tcp -m tcp --dport 22 -j DROP", false),
        ("-A CLUSTERCTL -p tcp -m tcp --dport 2222 -j DROP", false),        // the port this connection reached
        ("-A CLUSTERCTL -s 10.0.0.0/8 -j DROP", false),
        ("-A CLUSTERCTL -j DROP", false),
        ("-A CLUSTERCTL -p tcp -j REJECT", false),
        ("-A CLUSTERCTL -p tcp -m tcp ! --dport 11211 -j DROP", false),
        ("-A CLUSTERCTL -p tcp -m multiport --dports 11211,22 -j DROP", false),
        ("-A CLUSTERCTL -p tcp -m tcp --dport 1:65535 -j DROP", false),
        ("-A CLUSTERCTL -p all -j DROP", false),
        ("-A CLUSTERCTL -g OTHER", false),
        ("-A CLUSTERCTL -j LOG --log-prefix x", false),
        ("-A CLUSTERCTL -p tcp -m tcp --dport 11211 -p udp -j DROP", false),
        ("-A CLUSTERCTL -j ACCEPT -j DROP", false),
    ])
    func rulesThatCannotMatchSSH(rule: String, harmless: Bool) {
        #expect(SSHSafety.cannotCutSSH([rule], sshPorts: [22, 2222]) == harmless, "\(rule)")
    }

    @Test func harmlessRulesAreAppliedAndSavedInOneExecOverTheRunsConnection() async throws {
        let fixture = await FirewallTests.fixture(sshPort: 22)
        let connections = Counter()
        let transports = fixture.transports
        let pool = ConnectionPool { host in
            _ = await connections.next(host.name)
            return transports[host.name]!
        }
        let recap = await ClusterApplier(parallel: 3).apply(try await FirewallTests.plan(fixture, pool: pool), pool: pool,
                                                           checkFingerprints: false)
        #expect(!recap.failed, "\(recap.text)")
        #expect(await connections.next("mc1") == 2, "the run's connection only: no new one to check SSH")
        let mc1 = fixture.transport("mc1")
        let commands = await mc1.commands
        #expect(commands.contains(FirewallScripts.directScript(persist: "service iptables save")))
        #expect(!commands.contains { $0.contains(FirewallScripts.armedMarker) || $0.hasPrefix(FirewallScripts.checkMarker) })
        let table = await mc1.filterTable
        #expect(table.rules(of: "CLUSTERCTL") == FirewallTests.rules)
        #expect(table.rules(of: "INPUT").first == "-A INPUT -j CLUSTERCTL")
        #expect(await mc1.savedFirewall == table.save)
        #expect(await mc1.armedRollback == nil)
        #expect(!(try await FirewallTests.plan(fixture)).hasChanges)
    }

    @Test func aRuleThatCouldMatchSSHKeepsTheProtection() async throws {
        let fixture = await FirewallTests.fixture(sshPort: 22)
        let rules = FirewallTests.rules + ["-A CLUSTERCTL -s 203.0.113.0/24 -j DROP"]
        let recap = await ClusterApplier(parallel: 3, firewallTiming: .immediate)
            .apply(try await FirewallTests.plan(fixture, rules: rules), pool: fixture.pool, checkFingerprints: false)
        #expect(!recap.failed, "\(recap.text)")
        let commands = await fixture.transport("mc1").commands
        #expect(commands.contains(FirewallScripts.applyScript(rollbackSeconds: 30)))
        #expect(commands.contains(FirewallScripts.checkScript(persist: "service iptables save")))
        #expect(!commands.contains { $0.hasPrefix(FirewallScripts.directMarker) })
        #expect(await fixture.transport("mc1").filterTable.rules(of: "CLUSTERCTL") == rules)
    }

    @Test func aPendingRollbackRefusesTheDirectChange() async throws {
        let fixture = await FirewallTests.fixture(sshPort: 22)
        let plan = try await FirewallTests.plan(fixture)
        let mc1 = fixture.transport("mc1")
        let before = await mc1.filterTable
        await mc1.configure { $0.armedRollback = before }   // an earlier apply's, not yet fired
        let recap = await fixture.apply(plan)
        #expect(recap.outcome(for: "mc1")?.message?.hasPrefix("firewall CLUSTERCTL: rules not changed: exit status 11: "
                                                                + "a firewall rollback") == true, "\(recap.text)")
        #expect(await mc1.filterTable == before)
        #expect(await mc1.savedFirewall == nil)
    }
}
