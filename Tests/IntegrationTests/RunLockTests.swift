import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 14's "Done when" 1-3 on the namespace test cluster (EL5 profile), proven from the hosts' own
/// records: the yum shim's call log (every `yum install` a host ever ran), /var/log/clusterctl.log, and
/// listings of /var/lib/clusterctl and of the managed files' directories. Also: a SIGKILLed holder's lock
/// is taken over, `unlock --id` removes only the lock with that id, plan shows a held lock, and
/// `--lock-timeout` waits, then changes nothing another run already changed.
@Suite(.serialized) struct RunLockTests {
    // MARK: 1

    /// Both started at once, without waiting: each host is converged by the run that locked it first; the
    /// other run fails there naming the holder (or, reaching it after the release, finds nothing to do).
    @Test func twoAppliesAtOnceInstallEachPackageOnceAndTheLoserNamesTheHolder() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2) { cluster in
            let first = try Background.clusterctl(["apply", "-i", cluster.inventoryPath, "--yes"])
            let second = try Background.clusterctl(["apply", "-i", cluster.inventoryPath, "--yes"])
            let (a, b) = (try await first.wait(), try await second.wait())
            print("apply A (pid \(first.pid)): exit \(a.status)\n\(a.stdout)\(a.stderr)\napply B (pid \(second.pid)): exit \(b.status)\n\(b.stdout)\(b.stderr)")
            for host in ["mc1", "web1", "web2"] {
                let lines = [(a, first.pid), (b, second.pid)].map { ($0.0.recapLine(host), $0.1) }
                let changed = lines.filter { $0.0.contains(" changed (") }
                #expect(changed.count == 1, "\(host): \(lines.map(\.0))")
                for (line, _) in lines where !line.contains(" changed (") {
                    // The other run: locked out naming the holder's pid, or (it came after) nothing left to do.
                    let holder = changed.first?.1 ?? 0
                    #expect(line.contains(" ok") || line.contains("failed: locked by root@") && line.contains("(pid \(holder), since "),
                            "\(host): \(line)")
                }
            }
            try await expectEachPackageInstalledOnce(cluster, ["mc1", "web1", "web2"])
            let plan = try await clusterctl(["plan", "-i", cluster.inventoryPath, "--detailed-exitcode"])
            #expect(plan.status == 0, "\(plan.stdout)")
            try await expectNoLockNorTemporaryFile(cluster, ["mc1", "web1", "web2"])
        }
    }

    /// Both started at once with --lock-timeout: both succeed; the one that waited changed nothing.
    @Test func withALockTimeoutTheSecondWaitsThenChangesNothing() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2) { cluster in
            let first = try Background.clusterctl(["apply", "-i", cluster.inventoryPath, "--yes", "--lock-timeout", "5m"])
            let second = try Background.clusterctl(["apply", "-i", cluster.inventoryPath, "--yes", "--lock-timeout", "5m"])
            let (a, b) = (try await first.wait(), try await second.wait())
            print("apply A: exit \(a.status)\n\(a.stdout)\(a.stderr)\napply B: exit \(b.status)\n\(b.stdout)\(b.stderr)")
            #expect(a.status == 0 && b.status == 0)
            #expect((a.stdout + b.stdout).contains(": wait for the run lock held by root@"))
            for host in ["mc1", "web1", "web2"] {
                let lines = [a.recapLine(host), b.recapLine(host)]
                #expect(lines.filter { $0.contains(" changed (") }.count == 1 && lines.filter { $0.hasSuffix(" ok") }.count == 1,
                        "\(host): \(lines)")
            }
            try await expectEachPackageInstalledOnce(cluster, ["mc1", "web1", "web2"])
            try await expectNoLockNorTemporaryFile(cluster, ["mc1", "web1", "web2"])
        }
    }

    // MARK: 2

    @Test func sigintOneSecondIntoAColdApplyPrintsTheRecapAndLeavesNoLockNorTemporaryFile() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 3) { cluster in
            let hosts = ["mc1", "web1", "web2", "web3"]
            try await slowMirror(cluster, hosts)
            let apply = try Background.clusterctl(["apply", "-i", cluster.inventoryPath, "--yes"])
            try await Task.sleep(for: .seconds(1))
            apply.signal(SIGINT)
            let out = try await apply.wait()
            print("interrupted apply: exit \(out.status)\n\(out.stdout)\(out.stderr)")
            #expect(out.status == 130)
            #expect(out.stdout.contains("Interrupted (SIGINT): no new step starts"))
            #expect(out.stdout.contains("Recap:\n"))
            #expect(out.stdout.contains(" interrupted."))
            #expect(out.stdout.contains("did not run: "))
            try await expectNoLockNorTemporaryFile(cluster, hosts)
            // What the journal says ran is exactly what ran: one line per package in the yum log's installs.
            for host in hosts {
                let journal = try await cluster.run(host, "cat /var/log/clusterctl.log 2>/dev/null || true")
                let journalled = Set(journal.split(separator: "\n").compactMap { line -> String? in
                    guard let range = line.range(of: " ok install ") else { return nil }
                    return String(line[range.upperBound...])
                })
                #expect(journalled == Set(try await installedByYum(cluster, host).keys), "\(host): \(journal)")
            }

            let again = try await clusterctl(["apply", "-i", cluster.inventoryPath, "--yes"])
            #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
            let plan = try await clusterctl(["plan", "-i", cluster.inventoryPath, "--detailed-exitcode"])
            #expect(plan.status == 0, "\(plan.stdout)")
            try await expectEachPackageInstalledOnce(cluster, hosts)
        }
    }

    /// The second signal aborts at once: no recap, no release over the connection. The hosts release by
    /// themselves: each lock's watcher sees the run's sshd session end, removes the temporary files and the
    /// lock (RunLockScripts.watcher). Polled for a few seconds, since the watcher looks once a second.
    @Test func aSecondSIGINTAbortsAtOnceAndTheHostsStillReleaseTheirLocks() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2) { cluster in
            let hosts = ["mc1", "web1", "web2"]
            try await slowMirror(cluster, hosts)
            let apply = try Background.clusterctl(["apply", "-i", cluster.inventoryPath, "--yes"])
            try await Task.sleep(for: .seconds(1))
            apply.signal(SIGINT)
            try await Task.sleep(for: .milliseconds(200))
            apply.signal(SIGINT)
            let out = try await apply.wait()
            print("aborted apply: exit \(out.status)\n\(out.stdout)\(out.stderr)")
            #expect(out.status == 130)
            #expect(!out.stdout.contains("Recap:\n"))
            var locked = hosts
            for _ in 0..<20 where !locked.isEmpty {
                try await Task.sleep(for: .milliseconds(500))
                var still: [String] = []
                for host in locked where try await cluster.run(host, "readlink /var/lib/clusterctl/run.lock || true") != "" {
                    still.append(host)
                }
                locked = still
            }
            #expect(locked.isEmpty, "locks left on \(locked)")
            try await expectNoLockNorTemporaryFile(cluster, hosts)
            let again = try await clusterctl(["apply", "-i", cluster.inventoryPath, "--yes"])
            #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
            for host in hosts {   // the next run found no lock to take over: the hosts had released them
                let log = try await cluster.run(host, "cat /var/log/clusterctl.log 2>/dev/null || true")
                #expect(!log.contains("take over the stale run lock"), "\(host): \(log)")
            }
            let plan = try await clusterctl(["plan", "-i", cluster.inventoryPath, "--detailed-exitcode"])
            #expect(plan.status == 0, "\(plan.stdout)")
        }
    }

    // MARK: 3

    @Test func journalLinesOnEveryChangedHostAndNoneWhereNothingChanged() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 2) { cluster in
            let apply = try await clusterctl(["apply", "-i", cluster.inventoryPath, "--yes"])
            #expect(apply.status == 0, "\(apply.stdout)")
            let hostname = ProcessInfo.processInfo.hostName
            let pattern = try Regex(#"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ run=[0-9a-f]{16} by=[^ ]+@[^ ]+ (ok|failed) .+$"#)
            var runIDs: Set<String> = []
            for host in ["mc1", "web1", "web2"] {
                let lines = try await journal(cluster, host)
                // One line per change: the recap's count for the host.
                let count = Int(apply.stdout.recapLine(host).split(separator: "(").last?.split(separator: " ").first ?? "") ?? -1
                #expect(lines.count == count, "\(host): \(lines)")
                for line in lines {
                    #expect(line.wholeMatch(of: pattern) != nil, "\(line)")
                    #expect(line.contains(" by=\(ProcessInfo.processInfo.environment["USER"] ?? "root")@\(hostname) ok "))
                    runIDs.insert(String(line.split(separator: " ")[1]))
                }
                #expect(lines.contains { $0.hasSuffix(" ok install memcached") } == (host == "mc1"))
                #expect(lines.contains { $0.hasSuffix(" ok write /etc/php.ini") } == (host != "mc1"))
            }
            #expect(runIDs.count == 1)

            // Only mc1 has something to do now: only its journal grows.
            let bigger = try inventoryWith(cluster, cacheSizeMB: 96)
            let second = try await clusterctl(["apply", "-i", bigger, "--yes"])
            #expect(second.status == 0, "\(second.stdout)")
            let mc1 = try await journal(cluster, "mc1")
            #expect(mc1.suffix(2).map { String($0.split(separator: " ", maxSplits: 4)[4]) }
                    == ["write /etc/sysconfig/memcached", "restart memcached"])
            #expect(!runIDs.contains(String(mc1.last!.split(separator: " ")[1])))
            for web in ["web1", "web2"] {
                #expect(try await journal(cluster, web).count == Int(apply.stdout.recapLine(web).split(separator: "(").last?.split(separator: " ").first ?? "") ?? -1)
            }

            // A killed run's temporary copy of php.ini is removed by the next apply that changes web1, although
            // php.ini itself is not rewritten (only httpd is started again).
            try await cluster.run("web1", "service httpd stop >/dev/null 2>&1; echo half > /etc/.php.ini.clusterctl-tmp-0dead")
            let third = try await clusterctl(["apply", "-i", bigger, "--yes", "--json"])
            #expect(third.status == 0, "\(third.stderr)")
            printLockCost(third.stdout, host: "web1")
            #expect(try await cluster.run("web1", "ls -a /etc | grep clusterctl-tmp || true") == "")
            #expect(try await journal(cluster, "web1").suffix(2).map { String($0.split(separator: " ", maxSplits: 4)[4]) }
                    == ["remove /etc/.php.ini.clusterctl-tmp-0dead", "start httpd"])
        }
    }

    // MARK: stale and stuck locks, plan

    /// Logged in as `deploy` with sudo (`ssh.become`): the lock records the sshd process of the holder's
    /// connection, found through sudo; once the holder is SIGKILLed that process is gone and the lock's
    /// watcher removes the lock. A stale lock no watcher removed (planted here, recording an ended SSH
    /// session) is taken over by the next apply.
    @Test func aSIGKILLedHoldersLockIsRemovedByItsWatcherAndAStaleOneIsTakenOver() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 1) { cluster in
            var json = try inventoryJSON(cluster)
            var ssh = json["ssh"] as! [String: Any]
            (ssh["user"], ssh["become"]) = ("deploy", "sudo")
            json["ssh"] = ssh
            let inventory = try writeInventory(cluster, "inventory-deploy.json", json)
            try await slowMirror(cluster, ["mc1", "web1"])
            let apply = try Background.clusterctl(["apply", "-i", inventory, "--yes"])
            var held = ""
            for _ in 0..<100 where held.isEmpty {
                try await Task.sleep(for: .milliseconds(100))
                held = try await cluster.exec("mc1", "readlink /var/lib/clusterctl/run.lock || true").stdout
            }
            #expect(held.contains("clusterctl-run-lock 1;id="), "no lock seen on mc1")
            let session = try #require(held.split(separator: ";").first { $0.hasPrefix("session=") }?.dropFirst(8)
                .split(separator: ":").first)
            let comm = try await cluster.exec("mc1", "cat /proc/\(session)/comm; ps -o user= -p \(session)").stdout
            #expect(comm.hasPrefix("sshd\n"), "the lock's session \(session) is \(comm)")
            apply.signal(SIGKILL)
            _ = try await apply.wait()
            // The lock's watcher sees the killed run's session end and removes the lock by itself.
            var left = held
            for _ in 0..<20 where !left.isEmpty {
                try await Task.sleep(for: .milliseconds(500))
                left = try await cluster.exec("mc1", "readlink /var/lib/clusterctl/run.lock || true").stdout
            }
            #expect(left.isEmpty, "the SIGKILLed run's lock is still there: \(left)")
            let converge = try await clusterctl(["apply", "-i", inventory, "--yes"])
            #expect(converge.status == 0, "\(converge.stdout)\(converge.stderr)")

            // Where no watcher removed it (a host that killed it too, say), the next run takes a stale lock
            // over: a lock recording the sshd session of an SSH connection that has since ended.
            let deadSession = try await cluster.run("mc1", "[ \"$(cat /proc/$PPID/comm)\" = sshd ] && echo \"$PPID:$(awk '{print $22}' /proc/$PPID/stat)\"")
                .trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(deadSession.contains(":"), "no sshd session found: \(deadSession)")
            let stale = "clusterctl-run-lock 1;id=dead00000000000a;by=ghost@gone;pid=1;started=2026-11-25T09:00:00Z;"
                + "session=\(deadSession);command=clusterctl apply"
            _ = try await cluster.exec("mc1", "mkdir -p /var/lib/clusterctl && ln -s '\(stale)' /var/lib/clusterctl/run.lock")
            let bigger = try inventoryWith(cluster, cacheSizeMB: 96)   // mc1 has something to do: it locks
            let takeOver = try await clusterctl(["apply", "-i", bigger, "--yes"])
            #expect(takeOver.status == 0, "\(takeOver.stdout)\(takeOver.stderr)")
            let mc1 = try await journal(cluster, "mc1")
            #expect(mc1.contains { $0.contains(" ok take over the stale run lock dead00000000000a of ghost@gone") }, "\(mc1)")
            try await expectNoLockNorTemporaryFile(cluster, ["mc1", "web1"])
            let plan = try await clusterctl(["plan", "-i", bigger, "--detailed-exitcode"])
            #expect(plan.status == 0, "\(plan.stdout)")
        }
    }

    /// A lock whose holder cannot be proven gone (no session recorded): plan shows it, apply refuses the host
    /// and changes nothing there, `unlock` with another id refuses, with its id removes it.
    @Test func aStuckLockIsShownByPlanAndRemovedOnlyByUnlockWithItsID() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 1) { cluster in
            let stuck = "clusterctl-run-lock 1;id=5tuck0000000000a;by=ghost@elsewhere;pid=77;started=2026-11-25T09:00:00Z;"
                + "session=-;command=clusterctl apply -i x.json"
            try await cluster.run("web1", "mkdir -p /var/lib/clusterctl && ln -s '\(stuck)' /var/lib/clusterctl/run.lock")
            let plan = try await clusterctl(["plan", "-i", cluster.inventoryPath])
            #expect(plan.stdout.contains("~ web1 (web) [CentOS release 5.5 (Final), el5] (locked by ghost@elsewhere (pid 77, "
                                         + "since 2026-11-25T09:00:00Z, lock id 5tuck0000000000a: clusterctl apply -i x.json))"),
                    "\(plan.stdout)")

            let refused = try await clusterctl(["apply", "-i", cluster.inventoryPath, "--yes"])
            #expect(refused.status == 1)
            #expect(refused.stdout.contains("web1  failed: locked by ghost@elsewhere (pid 77, since 2026-11-25T09:00:00Z, lock id "
                                            + "5tuck0000000000a: clusterctl apply -i x.json); nothing applied. Wait for it "
                                            + "(apply --lock-timeout), or if it is stuck: clusterctl unlock web1 --id 5tuck0000000000a"),
                    "\(refused.stdout)")
            #expect(try await installedByYum(cluster, "web1").isEmpty)
            #expect(try await journal(cluster, "web1").isEmpty)

            let wrong = try await clusterctl(["unlock", "web1", "--id", "0ther", "-i", cluster.inventoryPath])
            #expect(wrong.status == 1)
            #expect(wrong.stderr.contains("unlock: web1: the run lock there is not 0ther but ghost@elsewhere"), "\(wrong.stderr)")
            #expect(try await cluster.run("web1", "readlink /var/lib/clusterctl/run.lock") == stuck + "\n")

            let right = try await clusterctl(["unlock", "web1", "--id", "5tuck0000000000a", "-i", cluster.inventoryPath])
            #expect(right.status == 0, "\(right.stderr)")
            #expect(right.stdout.contains("web1: removed the run lock 5tuck0000000000a held by ghost@elsewhere"))
            #expect(try await cluster.run("web1", "ls -A /var/lib/clusterctl") == "")
            #expect(try await journal(cluster, "web1").last?.hasSuffix(" ok unlock: removed the run lock \(stuck)") == true)

            let applied = try await clusterctl(["apply", "-i", cluster.inventoryPath, "--yes"])
            #expect(applied.status == 0, "\(applied.stdout)")
        }
    }

    // MARK: debian12

    /// Real Debian 12 hosts (systemd, OpenSSH's own sshd, apt and dpkg): while one apply holds the hosts, plan
    /// shows the lock and a second apply is refused naming it; dpkg's own log shows each package installed once.
    @Test func onDebianASecondApplyIsRefusedWhileTheFirstHoldsTheHosts() async throws {
        try await TestCluster.withCluster(memcache: 1, web: 1, profile: .debian12) { cluster in
            let first = try Background.clusterctl(["apply", "-i", cluster.inventoryPath, "--yes"])
            var held = ""
            for _ in 0..<300 where !held.contains("run-lock") {
                try await Task.sleep(for: .milliseconds(100))
                held = try await cluster.exec("web1", "readlink /var/lib/clusterctl/run.lock || true").stdout
            }
            let session = try #require(held.split(separator: ";").first { $0.hasPrefix("session=") }?.dropFirst(8)
                .split(separator: ":").first, "no lock seen on web1")
            #expect(try await cluster.exec("web1", "cat /proc/\(session)/comm").stdout == "sshd\n")
            let plan = try await clusterctl(["plan", "-i", cluster.inventoryPath])
            #expect(plan.stdout.contains("(locked by "), "\(plan.stdout)")
            let second = try await clusterctl(["apply", "-i", cluster.inventoryPath, "--yes"])
            print("second apply: exit \(second.status)\n\(second.stdout)")
            #expect(second.status == 1)
            #expect(second.stdout.contains("web1  failed: locked by root@"), "\(second.stdout)")
            let out = try await first.wait()
            #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
            for host in ["mc1", "web1"] {
                let installs = try await cluster.run(host, "grep ' install ' /var/log/dpkg.log | awk '{print $4}' | sort | uniq -d")
                #expect(installs == "", "\(host): installed twice: \(installs)")
                #expect(try await cluster.run(host, "ls -A /var/lib/clusterctl | grep run.lock | grep -vx run.lock.serial || true") == "")
                #expect(!(try await journal(cluster, host)).isEmpty)
            }
        }
    }

    // MARK: helpers

    /// What the lock costs, from the event times (a figure to read, not a claim): host-started → first
    /// step-started is the exec that takes the lock, cleans up and re-reads the facts; last step-finished →
    /// host-finished the one that writes the journal and releases the lock.
    private func printLockCost(_ events: String, host: String) {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let mine = events.split(separator: "\n").compactMap { line -> (String, Date)? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  object["host"] as? String == host, let type = object["type"] as? String,
                  let time = (object["time"] as? String).flatMap(formatter.date) else { return nil }
            return (type, time)
        }
        guard let started = mine.first(where: { $0.0 == "host-started" })?.1,
              let firstStep = mine.first(where: { $0.0 == "step-started" })?.1,
              let lastStep = mine.last(where: { $0.0 == "step-finished" })?.1,
              let finished = mine.first(where: { $0.0 == "host-finished" })?.1 else { return }
        print(String(format: "\(host): lock + cleanup + facts exec %.0f ms; journal + release exec %.0f ms",
                     firstStep.timeIntervalSince(started) * 1000, finished.timeIntervalSince(lastStep) * 1000))
    }

    /// Every `yum install` on `hosts` waits 2 s first (the el5 yum's test knob): an apply signalled a second
    /// in is still mid-way however fast the machine runs it.
    private func slowMirror(_ cluster: TestCluster, _ hosts: [String]) async throws {
        for host in hosts { _ = try await cluster.run(host, "mkdir -p /etc/cct-test && echo 2 > /etc/cct-test/yum-delay") }
    }

    private func journal(_ cluster: TestCluster, _ host: String) async throws -> [String] {
        try await cluster.run(host, "cat /var/log/clusterctl.log 2>/dev/null || true").split(separator: "\n").map(String.init)
    }

    /// Package → how many `yum install` commands named it, from the yum shim's own log.
    private func installedByYum(_ cluster: TestCluster, _ host: String) async throws -> [String: Int] {
        let log = try await cluster.run(host, "cat /var/log/clusterctl-test/yum.log 2>/dev/null || true")
        var counts: [String: Int] = [:]
        for line in log.split(separator: "\n") {
            guard let range = line.range(of: " yum -y install ") else { continue }
            let packages = line[range.upperBound...].split(separator: " ").prefix { $0 != "=>" }
            for package in packages { counts[String(package), default: 0] += 1 }
        }
        return counts
    }

    private func expectEachPackageInstalledOnce(_ cluster: TestCluster, _ hosts: [String],
                                                sourceLocation: SourceLocation = #_sourceLocation) async throws {
        for host in hosts {
            let counts = try await installedByYum(cluster, host)
            #expect(!counts.isEmpty && counts.values.allSatisfy { $0 == 1 }, "\(host): \(counts)", sourceLocation: sourceLocation)
        }
    }

    private func expectNoLockNorTemporaryFile(_ cluster: TestCluster, _ hosts: [String],
                                              sourceLocation: SourceLocation = #_sourceLocation) async throws {
        for host in hosts {
            // run.lock.serial stays by design: the id of the last run that took the lock.
            #expect(try await cluster.run(host, "ls -A /var/lib/clusterctl 2>/dev/null | grep run.lock | grep -vx run.lock.serial || true") == "",
                    "\(host) has a run lock", sourceLocation: sourceLocation)
            #expect(try await cluster.run(host, "find /etc /var/www /tmp -name '*clusterctl-tmp-*' 2>/dev/null || true") == "",
                    "\(host) has temporary files", sourceLocation: sourceLocation)
        }
    }
}

private extension ProcessOutput {
    func recapLine(_ host: String) -> String { stdout.recapLine(host) }
}

private extension String {
    /// The host's line of the recap (`  web1  changed (4 changes)`), trimmed.
    func recapLine(_ host: String) -> String {
        guard let recap = range(of: "Recap:\n") else { return "" }
        return self[recap.upperBound...].split(separator: "\n")
            .first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(host + " ") }
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
    }
}

/// A clusterctl run in the background that a test can signal (SIGINT, SIGKILL) and then wait for.
final class Background: @unchecked Sendable {
    let process = Process()
    private let directory: URL
    var pid: Int32 { process.processIdentifier }

    private init(directory: URL) { self.directory = directory }

    static func clusterctl(_ arguments: [String]) throws -> Background {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cct-bg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let background = Background(directory: directory)
        for name in ["stdout", "stderr"] {
            _ = FileManager.default.createFile(atPath: directory.appendingPathComponent(name).path, contents: nil)
        }
        background.process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("clusterctl")
        background.process.arguments = arguments
        background.process.standardInput = FileHandle.nullDevice
        background.process.standardOutput = try FileHandle(forWritingTo: directory.appendingPathComponent("stdout"))
        background.process.standardError = try FileHandle(forWritingTo: directory.appendingPathComponent("stderr"))
        try background.process.run()
        return background
    }

    func signal(_ number: Int32) { _ = kill(pid, number) }

    /// Waits off the concurrency pool, at most 10 minutes (then SIGKILL).
    func wait() async throws -> ProcessOutput {
        let process = self.process
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                let deadline = Date().addingTimeInterval(600)
                while process.isRunning && Date() < deadline { usleep(50_000) }
                if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
                continuation.resume()
            }
        }
        defer { try? FileManager.default.removeItem(at: directory) }
        let read = { (name: String) in (try? String(contentsOf: self.directory.appendingPathComponent(name), encoding: .utf8)) ?? "" }
        return ProcessOutput(status: process.terminationStatus, stdout: read("stdout"), stderr: read("stderr"))
    }
}
