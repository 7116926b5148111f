import Foundation
import Testing

/// Issue 13, done-when 2 and 3 on 2 memcache + 3 web hosts:
/// - a client requesting the session page round-robin across the web hosts with one session cookie, while an
///   apply changes php.ini on every web host: with `--serial 1` no request fails and the value is never lost;
///   without --serial the figures are printed, not asserted;
/// - a cacheSizeMB change with redundancy 2 and `--serial 1` restarts memcached one host at a time, each cut off
///   from the web hosts until the sessions are copied back into it, and a session written before is still read
///   after it (without that copy both extensions lose it: README, "Session redundancy").
@Suite(.serialized) struct RollingApplyTests {
    @Test(arguments: [TestCluster.Profile.el5, .debian12])
    func serialApplyKeepsServingAndKeepsSessionsThroughMemcachedRestarts(profile: TestCluster.Profile) async throws {
        try await TestCluster.withCluster(memcache: 2, web: 3, profile: profile) { cluster in
            let one = try inventoryVariant(cluster, "r1") { $0["php"] = ["sessionRedundancy": 1] }
            let two = try inventoryVariant(cluster, "r2") { $0["php"] = ["sessionRedundancy": 2] }
            let first = try await clusterctl(["apply", "-i", one, "--yes"])
            try #require(first.status == 0, "\(first.stdout)\n\(first.stderr)")
            let webs = ["web1", "web2", "web3"]
            for web in webs { _ = try await cluster.run(web, "cat > /var/www/html/session.php <<'EOF'\n\(sessionPage)\nEOF") }
            let addresses = try webs.map { try cluster.address($0) }

            // 1 → 2 copies changes php.ini on every web host; --serial 1 restarts them one at a time.
            let serial = try await roundRobin(addresses, during: ["apply", "-i", two, "--yes", "--serial", "1"])
            print("[\(profile)] apply --serial 1: failed requests: \(serial.failed), session lost: \(serial.lost) "
                  + "(of \(serial.requests) requests; \(serial.retried) answered by the next host after a refused one)")
            try #require(serial.apply.status == 0, "\(serial.apply.stdout)\n\(serial.apply.stderr)")
            #expect(serial.failed == 0)
            #expect(serial.lost == 0)
            #expect(serial.requests > 0)
            let converged = try await clusterctl(["plan", "-i", two, "--detailed-exitcode"])
            #expect(converged.status == 0, "\(converged.stdout)")

            // Back to 1 copy, everything at once: the figures are printed, not asserted.
            let together = try await roundRobin(addresses, during: ["apply", "-i", one, "--yes"])
            print("[\(profile)] apply without --serial: failed requests: \(together.failed), session lost: \(together.lost) "
                  + "(of \(together.requests) requests)")
            try #require(together.apply.status == 0, "\(together.apply.stdout)\n\(together.apply.stderr)")

            // cacheSizeMB with 2 copies: memcached restarts on one host at a time (mc1's host finishes before
            // mc2's starts), and plan says what that does to the sessions.
            let back = try await clusterctl(["apply", "-i", two, "--yes"])
            try #require(back.status == 0, "\(back.stdout)")
            let sessionID = "rolling\(Int.random(in: 100_000...999_999))"
            #expect(try await http(addresses[0], "/session.php?set=kept", sessionID: sessionID) == "kept")
            let bigger = try inventoryVariant(cluster, "r2-96") {
                $0["php"] = ["sessionRedundancy": 2]
                $0["memcached"] = ["cacheSizeMB": 96]
            }
            let plan = try await clusterctl(["plan", "-i", bigger])
            // EL 5's own php-pecl-memcache 2.2 keeps one copy (the test hosts run memcache 8.0 under its name).
            let warning = profile == .el5
                ? "! warning: mc1: restarting memcached empties it, and the sessions it holds have no other copy: "
                    + "web1 (EL 5, php-pecl-memcache 2.2) keeps each session on one server"
                : "! warning: mc1: restarting memcached empties it; `apply --serial N` cuts it off"
            #expect(plan.stdout.contains(warning), "\(plan.stdout)")
            #expect(plan.stdout.contains("`apply --serial N` restarts them one at a time"))
            let rolling = try await clusterctl(["apply", "-i", bigger, "--yes", "--serial", "1", "--json"])
            try #require(rolling.status == 0, "\(rolling.stdout)\n\(rolling.stderr)")
            let events = try hostEvents(rolling.stdout)
            let mc1Finished = try #require(events.firstIndex { $0 == ("host-finished", "mc1") })
            let mc2Started = try #require(events.firstIndex { $0 == ("host-started", "mc2") })
            #expect(mc1Finished < mc2Started, "memcached restarted on mc1 and mc2 together: \(events)")
            let after = try await http(addresses[1], "/session.php", sessionID: sessionID)
            print("[\(profile)] session written before the rolling memcached restart reads \"\(after)\" after it")
            #expect(after == "kept")

            // Without --serial both restart at once and nothing is copied back: printed, not asserted.
            let lost = "rolling\(Int.random(in: 100_000...999_999))"
            #expect(try await http(addresses[0], "/session.php?set=kept", sessionID: lost) == "kept")
            let atOnce = try await clusterctl(["apply", "-i", two, "--yes"])
            try #require(atOnce.status == 0, "\(atOnce.stdout)")
            print("[\(profile)] without --serial, the same session reads \""
                  + (try await http(addresses[1], "/session.php", sessionID: lost)) + "\" after memcached restarted")
        }
    }

    /// A batch whose check fails stops the run: here a drop-in on web2 overrides the redundancy clusterctl
    /// writes into php.ini, so PHP over HTTP serves another value than planned; web3 is left unchanged.
    @Test func failingBatchStopsTheRunNamingTheHostsLeftUnchanged() async throws {
        try await TestCluster.withCluster(memcache: 2, web: 3) { cluster in
            let one = try inventoryVariant(cluster, "r1") { $0["php"] = ["sessionRedundancy": 1] }
            let two = try inventoryVariant(cluster, "r2") { $0["php"] = ["sessionRedundancy": 2] }
            let first = try await clusterctl(["apply", "-i", one, "--yes"])
            try #require(first.status == 0, "\(first.stdout)\n\(first.stderr)")
            _ = try await cluster.run("web2", "echo 'memcache.session_redundancy = 5' > /etc/php.d/zz-local.ini")

            let serial = try await clusterctl(["apply", "-i", two, "--yes", "--serial", "1"])
            #expect(serial.status == 1)
            #expect(serial.stdout.contains("web1  changed"), "\(serial.stdout)")
            #expect(serial.stdout.contains("web2  failed"))
            #expect(serial.stdout.contains("applied, but the check after its restart failed: PHP over HTTP serves "
                                           + "memcache.session_redundancy = \"5\" (expected \"2\")"), "\(serial.stdout)")
            #expect(serial.stdout.contains("web3  failed: left unchanged: --serial stopped after web2 failed"), "\(serial.stdout)")
            #expect(try await cluster.run("web3", "grep '^memcache.session_redundancy' /etc/php.ini")
                .contains("memcache.session_redundancy = 1"))
        }
    }

    struct RoundRobin {
        var requests = 0, failed = 0, lost = 0, retried = 0
        var apply: ProcessOutput
    }

    /// Sets a session value, then GETs the session page on each address in turn (one cookie) until `arguments`
    /// (a clusterctl run) ends. A refused or failed request is retried on the next host, as a load balancer
    /// would; it counts as failed only when no host answers. `lost`: answered without the value.
    private func roundRobin(_ addresses: [String], during arguments: [String]) async throws -> RoundRobin {
        let sessionID = "rr\(Int.random(in: 100_000...999_999))"
        #expect(try await http(addresses[0], "/session.php?set=rr", sessionID: sessionID) == "rr")
        let done = Flag()
        let running = Task {
            defer { Task { await done.raise() } }
            return try await clusterctl(arguments)
        }
        var counts = RoundRobin(apply: ProcessOutput(status: -1, stdout: "", stderr: ""))
        var next = 0
        while await !done.raised {
            counts.requests += 1
            var body: String?
            for attempt in 0..<addresses.count {
                let address = addresses[(next + attempt) % addresses.count]
                let out = try await runProcess("/usr/bin/curl", ["-s", "-f", "--max-time", "10", "-H",
                                                                 "Cookie: PHPSESSID=\(sessionID)", "http://\(address)/session.php"])
                if out.status == 0 {
                    body = out.stdout
                    if attempt > 0 { counts.retried += 1 }
                    break
                }
            }
            next += 1
            if let body { if body != "rr" { counts.lost += 1 } } else { counts.failed += 1 }
        }
        counts.apply = try await running.value
        return counts
    }

    actor Flag {
        private(set) var raised = false
        func raise() { raised = true }
    }

    /// (type, host) of the host-started and host-finished events of an apply --json run, in order.
    private func hostEvents(_ stdout: String) throws -> [(String, String)] {
        stdout.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let type = object["type"] as? String, type.hasPrefix("host-"), let host = object["host"] as? String
            else { return nil }
            return (type, host)
        }
    }
}
