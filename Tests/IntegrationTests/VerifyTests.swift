import Foundation
import Testing

/// Issue 7's "Done when" on the namespace cluster: `clusterctl verify` passes on a converged cluster, and each
/// way of breaking it is named by the right ✗ line with exit status 1. Real sshd, memcached, PHP and iptables.
@Suite(.serialized) struct VerifyTests {
    @Test func convergedClusterPassesAndEachBreakageIsNamed() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2, other: 1) { cluster in
            let inventory = cluster.inventoryPath
            let apply = try await clusterctl(["apply", "-i", inventory, "--yes"])
            try #require(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)")
            let mc1 = try cluster.address("mc1")

            let healthy = try await clusterctl(["verify", "-i", inventory])
            #expect(healthy.status == 0, "\(healthy.stdout)\n\(healthy.stderr)")
            for line in ["✓ mc1: memcached is running",
                         "✓ mc1: memcached answers stats on \(mc1):11211: version 1.",
                         "✓ web1: reaches memcached on mc1 (\(mc1):11211)",
                         "✓ web2: reaches memcached on mc1 (\(mc1):11211)",
                         "✓ other1: cannot reach memcached on mc1 (\(mc1):11211), as it should not",
                         "✓ web1: PHP loads the memcache extension",
                         "✓ web2: session.save_handler = memcache, session.save_path = \"tcp://\(mc1):11211\"",
                         "✓ web2: reads the session written on web1 through PHP",
                         "✓ web1: reads the session written on web2 through PHP",
                         "✓ web2: over HTTP reads the session set on web1",
                         "✓ web1: over HTTP reads the session set on web2",
                         "✓ web1: all 2 web hosts have the same session configuration (session.save_handler=memcache; "
                            + "session.save_path=tcp://\(mc1):11211;",
                         "Verify: all "] {
                #expect(healthy.stdout.contains(line), "verify output lacks \(line):\n\(healthy.stdout)")
            }
            #expect(!healthy.stdout.contains("✗"))

            // verify leaves nothing behind: no test page, no session in memcached.
            for web in ["web1", "web2"] {
                #expect(try await cluster.run(web, "ls /var/www/html | grep -c clusterctl-verify || true")
                    .trimmingCharacters(in: .whitespacesAndNewlines) == "0")
            }
            let items = try await cluster.run("mc1", "printf 'stats\\r\\nquit\\r\\n' | nc -w 3 \(mc1) 11211 | grep curr_items")
            #expect(items.contains("STAT curr_items 0"), "\(items)")

            let json = try await clusterctl(["verify", "-i", inventory, "--json"])
            expectSuccess(json)
            let document = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
            #expect(document?["passed"] as? Bool == true)
            #expect((document?["checks"] as? [[String: Any]])?.count ?? 0 >= 12)

            // The memcache extension missing on one web host.
            _ = try await cluster.run("web2", "mv /etc/php.d/memcache.ini /root/memcache.ini.off")
            try await expectBroken(cluster, [
                "✗ web2: PHP does not load the memcache extension",
                "✗ web2: cannot read the session written on web1 through PHP",
            ])
            _ = try await cluster.run("web2", "mv /root/memcache.ini.off /etc/php.d/memcache.ini")

            // A web host hashing session ids differently: its effective save_path is right, but with more than
            // one memcache host it would look for sessions elsewhere; the ring of reads alone would not notice.
            _ = try await cluster.run("web2", "echo 'memcache.hash_strategy = standard' > /etc/php.d/zz-hash.ini")
            try await expectBroken(cluster, [
                "✗ web2: session configuration differs from the other web hosts': session.save_handler=memcache; "
                    + "session.save_path=tcp://\(mc1):11211; memcache.hash_strategy=standard;",
            ])
            _ = try await cluster.run("web2", "rm /etc/php.d/zz-hash.ini")

            // php.ini pointing at a wrong port.
            _ = try await cluster.run("web1", "sed -i 's/:11211\"/:11299\"/' /etc/php.ini")
            try await expectBroken(cluster, [
                "✗ web1: session.save_handler = memcache, session.save_path = \"tcp://\(mc1):11299\"; expected memcache and \"tcp://\(mc1):11211\"",
            ])
            try await repairWithApply(cluster)

            // The firewall rule for one web host removed.
            let web1 = try cluster.address("web1")
            _ = try await cluster.run("mc1", "iptables -D CLUSTERCTL -s \(web1)/32 -p tcp -m tcp --dport 11211 -j ACCEPT")
            try await expectBroken(cluster, ["✗ web1: cannot reach memcached on mc1 (\(mc1):11211)"])
            try await repairWithApply(cluster)

            // memcached stopped.
            _ = try await cluster.run("mc1", "service memcached stop")
            try await expectBroken(cluster, [
                "✗ mc1: memcached is not running",
                "✗ mc1: memcached does not answer stats on \(mc1):11211",
                "✗ web1: cannot reach memcached on mc1",
            ])
            try await repairWithApply(cluster)

            // Repaired: verify passes again (the breakages above were the only problems).
            let repaired = try await clusterctl(["verify", "-i", inventory])
            #expect(repaired.status == 0, "\(repaired.stdout)")
        }
    }

    /// clusterctl converges the host back (php.ini, firewall chain, service state).
    private func repairWithApply(_ cluster: TestCluster, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let apply = try await clusterctl(["apply", "-i", cluster.inventoryPath, "--yes"])
        try #require(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)", sourceLocation: sourceLocation)
    }

    /// verify exits 1 and prints each expected ✗ line.
    private func expectBroken(_ cluster: TestCluster, _ lines: [String],
                              sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let result = try await clusterctl(["verify", "-i", cluster.inventoryPath])
        #expect(result.status == 1, "verify should fail:\n\(result.stdout)\n\(result.stderr)", sourceLocation: sourceLocation)
        for line in lines {
            #expect(result.stdout.contains(line), "verify output lacks \(line):\n\(result.stdout)", sourceLocation: sourceLocation)
        }
        #expect(result.stdout.contains("checks failed."), sourceLocation: sourceLocation)
    }
}
