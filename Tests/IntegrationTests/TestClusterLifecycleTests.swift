import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Bringing clusters up and down: speed (printed, not asserted), scale, repeated `up`, and a clean
/// `down` after a crash. `TestCluster.down()` itself fails when anything is left on the machine
/// (namespaces, links, mounts, processes, state), so every test here checks that.
@Suite("Test cluster: lifecycle", .serialized, .timeLimit(.minutes(5)))
struct TestClusterLifecycleTests {
    @Test("up of 1 memcache + 2 web hosts (time printed, not asserted)")
    func upIsTimed() async throws {
        let cluster = try await TestCluster.up(memcache: 1, web: 2)
        print("testcluster up, 1 memcache + 2 web (EL5), until every sshd answers: \(cluster.upDuration.formatted(.units(allowed: [.seconds, .milliseconds])))")
        do {
            let out = try await cluster.ssh("web2", "hostname")
            #expect(out.stdout == "web2\n")
        } catch {
            try? await cluster.down()
            throw error
        }
        try await cluster.down()
    }

    @Test("50 hosts come up, all answer over SSH, and go down")
    func fiftyHosts() async throws {
        try await TestCluster.withCluster(memcache: 5, web: 40, other: 5) { cluster in
            #expect(cluster.hosts.count == 50)
            #expect(Set(cluster.hosts.map(\.address)).count == 50)
            #expect(cluster.hosts.allSatisfy { $0.address.hasPrefix("198.18.0.") })
            let answers = try await withThrowingTaskGroup(of: (String, String).self) { group in
                var answers: [(String, String)] = []
                for (index, host) in cluster.hosts.enumerated() {
                    if index >= 10, let done = try await group.next() { answers.append(done) }   // 10 at once
                    group.addTask { (host.name, try await cluster.ssh(host.name, "hostname").stdout) }
                }
                for try await done in group { answers.append(done) }
                return answers
            }
            #expect(answers.count == 50)
            for (name, answer) in answers { #expect(answer == "\(name)\n") }
            let inventory = try String(contentsOfFile: cluster.inventoryPath, encoding: .utf8)
            #expect(inventory.contains("\"web40\": { \"roles\": [\"web\"], \"address\": \"198.18.0.55\""))
        }
    }

    @Test("up twice is safe: the second up replaces the first cluster")
    func upTwice() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 1) { cluster in
            let firstKeys = try knownHostsKeys(cluster)
            let again = try await TestCluster.runScript(["up", "--memcache", "1", "--web", "1", "--state", cluster.stateDirectory])
            #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
            #expect(try await cctNamespaces().sorted() == ["cct-mc1", "cct-switch", "cct-web1"], "one set of hosts plus the switch")
            #expect(try knownHostsKeys(cluster) != firstKeys, "a fresh cluster has fresh host keys")
            for host in cluster.hosts {
                let out = try await cluster.ssh(host.name, "hostname")
                #expect(out.stdout == "\(host.name)\n", "\(out.stderr)")
            }
        }
    }

    @Test("down after a crash (every host's init killed) leaves nothing behind")
    func downAfterCrash() async throws {
        let cluster = try await TestCluster.up(memcache: 1, web: 2, other: 1)
        do {
            let started = try await cluster.ssh("mc1", "yum -y install epel-release >/dev/null && yum -y install memcached >/dev/null && service memcached start")
            #expect(started.status == 0, "\(started.stdout)\(started.stderr)")
            let pids = try cluster.hosts.map { host in
                try String(contentsOfFile: "\(cluster.stateDirectory)/hosts/\(host.name)/init.pid", encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let kill = try await runProcess("/bin/kill", ["-KILL"] + pids)
            #expect(kill.status == 0, "\(kill.stderr)")
            #expect(try await cctNamespaces().count == 5, "the crash leaves the 4 host namespaces and the switch for down to find")
        } catch {
            try? await cluster.down()
            throw error
        }
        try await cluster.down()
    }

    @Test("a wedged child (e.g. a hung testcluster) is killed at its timeout instead of hanging the run")
    func wedgedChildIsKilled() async throws {
        let out = try await runProcess("/bin/sleep", ["600"], timeout: 0.5)
        #expect(out.status == SIGKILL, "sleep 600 must have been killed, got exit \(out.status)")
    }

    @Test("bad arguments are refused with a clear message before anything is touched")
    func badArguments() async throws {
        let cases: [([String], String)] = [
            (["up", "--memcache", "x", "--web", "1"], "--memcache must be a non-negative integer, got 'x'"),
            (["up", "--memcache", "200", "--web", "100"], "at most 244 hosts fit in 198.18.0.11-254, asked for 300"),
            (["up", "--memcache", "0", "--web", "0"], "a cluster needs at least one host"),
            (["up", "--memcache", "1", "--web", "1", "--profile", "el6"], "--profile must be el5, plain, debian12, el9 or el7, got 'el6'"),
            (["up", "--memcache", "1", "--web", "1", "--web-profile", "debian13"], "a host profile must be el5, plain, debian12, el9 or el7, got 'debian13'"),
            (["reboot", "--state", "/tmp/clusterctl-testcluster-none", "web1"], "no host 'web1'"),
            (["up", "--memcache", "1", "--web", "1", "--state", "/tmp/a b"], "--state must be a path of letters"),
            (["down", "--state", "/etc"], "--state /etc is a system directory"),
        ]
        for (arguments, message) in cases {
            let out = try await runProcess("/bin/bash", [TestCluster.scriptPath] + arguments)
            #expect(out.status != 0, "\(arguments)")
            #expect(out.stderr.contains(message), "\(arguments): \(out.stderr)")
        }
    }
}

/// cct- network namespaces on the machine.
func cctNamespaces() async throws -> [String] {
    let out = try await runProcess("/usr/sbin/ip", ["netns", "list"])
    return out.stdout.split(separator: "\n").map { String($0.split(separator: " ")[0]) }.filter { $0.hasPrefix("cct-") }
}
