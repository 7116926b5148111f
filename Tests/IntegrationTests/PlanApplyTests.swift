import Foundation
import Testing

/// Issue 5's "Done when" on the namespace test cluster (EL5 profile): the real clusterctl binary over real
/// SSH against hosts whose yum/rpm/chkconfig/service shims log every call, with real memcached and PHP.
/// What happened is proven from the hosts' own records (call logs, inodes, processes), not from our output.
@Suite(.serialized) struct PlanApplyTests {
    // MARK: 1, 2, 3, 7

    @Test func freshClusterPlansAppliesSharesSessionsAndThenStaysConverged() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2) { cluster in
            let inventory = cluster.inventoryPath
            let first = try await clusterctl(["plan", "-i", inventory, "--detailed-exitcode"])
            #expect(first.status == 2, "\(first.stderr)")
            for expected in ["+ package epel-release (repository)", "+ package memcached", "+ package php-pecl-memcache",
                             "~ file /etc/sysconfig/memcached", "+++ /etc/sysconfig/memcached", "~ file /etc/php.ini",
                             "+session.save_handler = memcache", "+ enable memcached at boot", "+ enable httpd at boot",
                             "> start memcached (not running)", "> start httpd (not running)",
                             "Plan: 3 of 3 hosts change; 10 packages, 3 files, 3 services, 3 firewall chains."] {
                #expect(first.stdout.contains(expected), "plan output lacks \(expected)")
            }

            for web in ["web1", "web2"] {
                try await cluster.run(web, "mkdir -p /var/www/html && cat > /var/www/html/session.php <<'EOF'\n\(sessionPage)\nEOF")
            }
            let apply = try await clusterctl(["apply", "-i", inventory, "--yes"])
            #expect(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)")
            #expect(apply.stdout.contains("Apply: 0 ok, 3 changed, 0 failed."))

            // 2: a session written through web1 is read through web2 (same id, memcached in between).
            let sessionID = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            let value = "v\(Int.random(in: 1000...9999))"
            #expect(try await http(try cluster.address("web1"), "/session.php?set=\(value)", sessionID: sessionID) == value)
            #expect(try await http(try cluster.address("web2"), "/session.php", sessionID: sessionID) == value)

            // 7: php.ini outside the two session lines is the package's php.ini, byte for byte.
            let stock = try await cluster.run("web1", "cat /usr/share/cct-el5/packages/php/root/etc/php.ini")
            let edited = try await cluster.run("web1", "cat /etc/php.ini")
            #expect(withoutSessionLines(edited) == withoutSessionLines(stock))
            #expect(edited.contains("session.save_handler = memcache\n"))
            #expect(edited.contains("session.save_path = \"tcp://\(try cluster.address("mc1")):11211\"\n"))

            // 3: converged; a second apply installs, writes and restarts nothing (hosts' own records).
            let second = try await clusterctl(["plan", "-i", inventory, "--detailed-exitcode"])
            #expect(second.status == 0, "\(second.stdout)\n\(second.stderr)")
            #expect(second.stdout.contains("Plan: 0 of 3 hosts change; 0 packages, 0 files, 0 services, 0 firewall chains."))
            let before = try await records(cluster)
            let again = try await clusterctl(["apply", "-i", inventory, "--yes"])
            expectSuccess(again)
            let after = try await records(cluster)
            for host in ["mc1", "web1", "web2"] {
                #expect(after[host]!.inodes == before[host]!.inodes, "\(host): a managed file was rewritten")
                let newCalls = after[host]!.changingCalls.dropFirst(before[host]!.changingCalls.count)
                #expect(newCalls.isEmpty, "\(host) ran \(Array(newCalls))")
            }
        }
    }

    // MARK: 4

    @Test func changedCacheSizeWritesOneFileAndRestartsMemcachedOnly() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2) { cluster in
            expectSuccess(try await clusterctl(["apply", "-i", cluster.inventoryPath, "--yes"]))
            let before = try await records(cluster)
            let changed = try inventoryWith(cluster, cacheSizeMB: 96)
            let plan = try await clusterctl(["plan", "-i", changed])
            #expect(plan.stdout.contains("Plan: 1 of 3 hosts change; 0 packages, 1 files, 1 services, 0 firewall chains."), "\(plan.stdout)")
            #expect(plan.stdout.contains("-CACHESIZE=\"64\"\n") && plan.stdout.contains("+CACHESIZE=\"96\"\n"))
            #expect(plan.stdout.contains("↻ restart memcached (config changed: /etc/sysconfig/memcached)"))

            expectSuccess(try await clusterctl(["apply", "-i", changed, "--yes"]))
            let after = try await records(cluster)
            #expect(Array(after["mc1"]!.changingCalls.dropFirst(before["mc1"]!.changingCalls.count))
                    .map(Self.withoutTimestamp) == ["uid=0 service memcached restart => 0"])
            for web in ["web1", "web2"] {
                #expect(after[web]!.changingCalls == before[web]!.changingCalls, "\(web) was touched")
                #expect(after[web]!.inodes == before[web]!.inodes)
            }
            #expect(try await cluster.run("mc1", "cat /proc/$(cat /var/run/memcached/memcached.pid)/cmdline | tr '\\0' ' '")
                    .contains("-m 96"))
        }
    }

    // MARK: 5

    @Test func savedPlanGoesStaleWhenPHPIniIsEditedBehindItsBack() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2) { cluster in
            expectSuccess(try await clusterctl(["apply", "-i", cluster.inventoryPath, "--yes"]))
            let changed = try inventoryWith(cluster, cacheSizeMB: 80)
            let planFile = NSTemporaryDirectory() + "clusterctl-plan-\(UUID().uuidString).json"
            defer { try? FileManager.default.removeItem(atPath: planFile) }
            expectSuccess(try await clusterctl(["plan", "-i", changed, "--out", planFile]))

            try await cluster.run("web1", "printf '; edited by hand\\n' >> /etc/php.ini")
            let apply = try await clusterctl(["apply", planFile, "--yes"])
            #expect(apply.status == 1)
            #expect(apply.stdout.contains("web1  failed: stale plan"), "\(apply.stdout)")
            #expect(apply.stdout.contains("mc1   changed"))
            #expect(try await cluster.run("web1", "tail -n 1 /etc/php.ini") == "; edited by hand\n")
        }
    }

    // MARK: 6

    @Test func unreachableWebHostFailsAloneAndIsNamedInTheRecap() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2) { cluster in
            // web2's sshd no longer answers: SSH connections are refused (iptables inside web2's namespace).
            let cut = try await cluster.exec("web2", "iptables -I INPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset")
            try #require(cut.status == 0, "\(cut.stderr)")
            let apply = try await clusterctl(["apply", "-i", cluster.inventoryPath, "--yes"])
            #expect(apply.status == 1)
            #expect(apply.stdout.contains("web2  failed: "), "\(apply.stdout)")
            #expect(apply.stdout.contains("Apply: 0 ok, 2 changed, 1 failed."))
            let rest = try await clusterctl(["plan", "-i", cluster.inventoryPath, "--limit", "mc1,web1",
                                                 "--detailed-exitcode"])
            #expect(rest.status == 0, "mc1 and web1 converged: \(rest.stdout)")
        }
    }

    // MARK: confirmation

    /// No terminal on stdin and no --yes: refused before reading the inventory or connecting anywhere.
    @Test func applyWithoutTerminalOrYesRefuses() async throws {
        let missing = NSTemporaryDirectory() + "clusterctl-no-such-inventory-\(UUID().uuidString).json"
        let output = try await clusterctl(["apply", "-i", missing])
        #expect(output.status == 1)
        #expect(output.stderr.contains("stdin is not a terminal; pass --yes"))
        #expect(!output.stderr.contains(missing), "refused before the inventory was read")
    }

    // MARK: helpers

    struct HostRecords {
        var changingCalls: [String]   // yum install, chkconfig on, service start/restart/stop
        var inodes: String             // of the managed files: a rewrite (rename) changes them
    }

    private func records(_ cluster: TestCluster) async throws -> [String: HostRecords] {
        var result: [String: HostRecords] = [:]
        for host in ["mc1", "web1", "web2"] {
            let calls = try await cluster.run(host, """
                cat /var/log/clusterctl-test/yum.log /var/log/clusterctl-test/chkconfig.log \
                /var/log/clusterctl-test/service.log 2>/dev/null \
                | grep -E ' (yum .*install|chkconfig [a-z]+ on|service [a-z]+ (start|restart|stop)) ' || true
                """)
            let inodes = try await cluster.run(host, "ls -i /etc/sysconfig/memcached /etc/php.ini 2>/dev/null || true")
            result[host] = HostRecords(changingCalls: calls.split(separator: "\n").map(String.init), inodes: inodes)
        }
        return result
    }

    static func withoutTimestamp(_ line: String) -> String { String(line.drop { $0 != " " }.dropFirst()) }

    private func withoutSessionLines(_ text: String) -> [Substring] {
        text.split(separator: "\n", omittingEmptySubsequences: false).filter { line in
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            // clusterctl's lines: the save handler and path, and the session redundancy lines (memcache.*).
            return !trimmed.hasPrefix("session.save_handler") && !trimmed.hasPrefix("session.save_path")
                && !trimmed.hasPrefix("memcache.") && !trimmed.hasPrefix("memcached.")
        }
    }
}
