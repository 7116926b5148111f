import Testing
@testable import ClusterKit

/// firewalld as the firewall backend where it runs: reading a zone, and planning the rich rules and services.
@Suite struct FirewalldTests {
    static let rockyListAll = """
        public (active)
          target: default
          icmp-block-inversion: no
          interfaces: eth0
          sources: 
          services: cockpit dhcpv6-client memcache ssh
          ports: 11211/tcp 8080/tcp
          protocols: 
          forward: yes
          masquerade: no
          forward-ports: 
          source-ports: 
          icmp-blocks: 
          rich rules: 
        \trule family="ipv4" source address="198.18.0.99/32" port port="11211" protocol="tcp" accept
        \trule family="ipv4" source address="198.18.0.12/32" port port="11211" protocol="tcp" accept
        \trule family="ipv4" source address="10.0.0.0/8" service name="ssh" accept

        """

    static let intent = FirewalldIntent(memcachedPort: 11211, memcachedSources: ["198.18.0.12/32", "198.18.0.13/32"],
                                        webServices: [])

    @Test func parsesTheZoneAsFirewallCmdListsIt() throws {
        let zone = try #require(FirewalldZone.parse(Self.rockyListAll))
        #expect(zone.name == "public")
        #expect(zone.services == ["cockpit", "dhcpv6-client", "memcache", "ssh"])
        #expect(zone.ports == ["11211/tcp", "8080/tcp"])
        #expect(zone.richRules.count == 3 && zone.richRules[2].contains("service name=\"ssh\""))
        #expect(FirewalldZone.parse("") == nil)
    }

    @Test func memcachedIsOpenedToTheAllowedSourcesOnlyAndNothingElseIsTouched() throws {
        let zone = try #require(FirewalldZone.parse(Self.rockyListAll))
        let ops = Self.intent.operations(from: zone)
        #expect(ops.addRichRules == [Self.intent.richRule(source: "198.18.0.13/32", port: 11211)])
        #expect(ops.removeRichRules == [#"rule family="ipv4" source address="198.18.0.99/32" port port="11211" protocol="tcp" accept"#])
        #expect(ops.removePorts == ["11211/tcp"], "8080 is someone else's")
        #expect(ops.removeServices == ["memcache"], "firewalld's memcache service opens 11211 to everyone")
        #expect(ops.addServices.isEmpty)
        #expect(ops.command(zone: "public", permanent: true) == "firewall-cmd -q --permanent --zone=public "
                + #"--remove-rich-rule='rule family="ipv4" source address="198.18.0.99/32" port port="11211" protocol="tcp" accept' "#
                + "--remove-port=11211/tcp --remove-service=memcache "
                + #"--add-rich-rule='rule family="ipv4" source address="198.18.0.13/32" port port="11211" protocol="tcp" accept'"#)
    }

    @Test func runtimeAndPermanentArePlannedSeparately() throws {
        var facts = HostFacts()
        facts.firewalldRunning = true
        let converged = FirewalldZone(name: "public", services: ["ssh"],
                                      richRules: Self.intent.memcachedSources.map { Self.intent.richRule(source: $0, port: 11211) })
        facts.firewalldRuntime = converged
        facts.firewalldPermanent = FirewalldZone(name: "public", services: ["ssh"])   // a forgotten --permanent
        let changes = try FirewalldPlanner.changes(intent: Self.intent, facts: facts)
        let change = try #require(changes.first?.firewalld)
        #expect(changes.first?.reason == "permanent configuration differs")
        #expect(change.runtime.isEmpty && change.permanent.addRichRules.count == 2)
        facts.firewalldPermanent = converged
        #expect(try FirewalldPlanner.changes(intent: Self.intent, facts: facts).isEmpty)
    }

    @Test func webHostsGetHTTPAndHTTPS() throws {
        let web = FirewalldIntent(memcachedPort: nil, memcachedSources: [], webServices: ["http", "https"])
        let ops = web.operations(from: FirewalldZone(name: "public", services: ["ssh", "http"]))
        #expect(ops.addServices == ["https"] && ops.removeRichRules.isEmpty && ops.removePorts.isEmpty)
    }

    @Test func savedPlanValuesMustBeWhatClusterctlWrites() {
        var ops = FirewalldOperations()
        ops.addRichRules = [#"rule family="ipv4" source address="1.2.3.4/32" port port="11211" protocol="tcp" accept"#]
        #expect(FirewalldChange(zone: "public", runtime: ops, permanent: ops, diff: "").firstInvalidValue() == nil)
        ops.addRichRules = [#"rule family="ipv4" source address="1.2.3.4/32" port port="22" protocol="tcp" drop"#]
        #expect(FirewalldChange(zone: "public", runtime: ops, permanent: ops, diff: "").firstInvalidValue() != nil)
        #expect(FirewalldChange(zone: "public; reboot", runtime: FirewalldOperations(), permanent: FirewalldOperations(),
                                diff: "").firstInvalidValue() != nil)
    }
}
