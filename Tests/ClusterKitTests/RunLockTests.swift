import Foundation
import Testing
@testable import ClusterKit

/// Issue 14's run lock, journal and interruption in the engine: the lock's text format, the real lock
/// scripts run by /bin/sh in a temporary directory, and ClusterApplier against in-memory hosts. The claims
/// on real hosts are in IntegrationTests.RunLockTests.
@Suite struct RunLockTests {
    static let identity = RunIdentity(runID: "0123456789abcdef", user: "alice", controllerHost: "ops1", pid: 4242,
                                      command: "clusterctl apply -i inv.json --yes",
                                      started: Date(timeIntervalSince1970: 1_795_000_000))

    // MARK: formats

    @Test func lockInfoRoundTripsAndTheCommandKeepsItsSpacesAndEquals() throws {
        let text = RunLockInfo.prefix(Self.identity, id: "0123456789abcdef") + ";session=812:99;command=clusterctl apply --x=1 y"
        #expect(text == "clusterctl-run-lock 1;id=0123456789abcdef;by=alice@ops1;pid=4242;started=2026-11-18T11:06:40Z;"
                + "session=812:99;command=clusterctl apply --x=1 y")
        let info = try #require(RunLockInfo.parse(text))
        #expect(info == RunLockInfo(id: "0123456789abcdef", who: "alice@ops1", pid: 4242, started: "2026-11-18T11:06:40Z",
                                    session: "812:99", command: "clusterctl apply --x=1 y"))
        #expect(info.description == "alice@ops1 (pid 4242, since 2026-11-18T11:06:40Z, lock id 0123456789abcdef: clusterctl apply --x=1 y)")
    }

    @Test(arguments: ["", "clusterctl-run-lock 2;id=a;by=b;pid=1", "clusterctl-run-lock 1;id=;by=b;pid=1",
                      "clusterctl-run-lock 1;id=a;by=b;pid=x", "clusterctl-run-lock 1;id=a;pid=1", "clusterctl-run-lock 1;junk"])
    func malformedLocksAreNotRead(text: String) {
        #expect(RunLockInfo.parse(text) == nil)
    }

    /// Whatever the environment holds, the recorded values cannot break the lock's fields or the journal's line.
    @Test func identityValuesAreReducedToASafeSet() {
        let identity = RunIdentity(user: "bob;rm -rf /", controllerHost: "h'o\"st\n", pid: 1,
                                   command: "clusterctl apply -i 'my inv.json'; echo $HOME\u{7}")
        #expect(identity.who == "bob_rm -rf /@h_o_st_")
        #expect(identity.command == "clusterctl apply -i _my inv.json__ echo _HOME_")
        #expect(RunIdentity.clean(String(repeating: "x", count: 300), max: 200).count == 200)
    }

    @Test func journalLineFormat() {
        let time = Date(timeIntervalSince1970: 1_795_000_003)
        #expect(RunJournal.line(RunJournal.Entry(time: time, what: "install memcached", ok: true), run: Self.identity)
                == "2026-11-18T11:06:43Z run=0123456789abcdef by=alice@ops1 ok install memcached")
        #expect(RunJournal.line(RunJournal.Entry(time: time, what: "start httpd", ok: false,
                                                 message: "exit status 1: line one\nline\ttwo"), run: Self.identity)
                == "2026-11-18T11:06:43Z run=0123456789abcdef by=alice@ops1 failed start httpd: exit status 1: line one / line two")
    }

    @Test func theFingerprintLeavesTheLockLineOut() throws {
        let report = "clusterctl-facts 2\nos CentOS release 5.5 (Final)\nfamily el5\nend-facts\n"
        let locked = report.replacingOccurrences(of: "family el5\n", with: "family el5\nlock held "
            + RunLockInfo.prefix(Self.identity, id: "ab") + ";session=1:2;command=x\n")
        let candidates = [FactsCandidate(family: OSFamilies.el5, query: .none)]
        let free = try FactsParser.parse(Array(report.utf8), host: "h", candidates: candidates)
        let held = try FactsParser.parse(Array(locked.utf8), host: "h", candidates: candidates)
        #expect(free.fingerprint == held.fingerprint)
        #expect(free.fingerprint == SHA256.hex(Array(report.utf8)))   // unchanged for hosts without a lock
        #expect(held.runLock?.id == "ab" && held.runLock?.stale == false)
    }

    // MARK: the real scripts, run by /bin/sh in a temporary directory

    /// No sshd above this test's shell: the session is `-`, which is never taken over automatically.
    @Test func realScriptsTakeHoldReleaseAndTakeOverOnlyAProvablyDeadHolder() async throws {
        let directory = NSTemporaryDirectory() + "cct-runlock-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/run.lock"
        let shell = LocalShellTransport()
        func acquire(_ id: String) async throws -> RunLockScripts.Outcome {
            let script = RunLockScripts.acquire(prefix: RunLockInfo.prefix(Self.identity, id: id), command: "clusterctl apply",
                                                then: "echo facts", path: path)
            let result = try await shell.run("/bin/sh -s", stdin: Array(script.utf8))
            #expect(result.succeeded, "\(result.stderrText)")
            return RunLockScripts.parseAcquire(result.stdout)
        }
        #expect(try await acquire("aaaa") == .acquired(tookOver: nil, unchanged: false, rest: Array("facts\n".utf8)))
        let held = try #require(try FileManager.default.destinationOfSymbolicLink(atPath: path))
        #expect(held.hasPrefix("clusterctl-run-lock 1;id=aaaa;by=alice@ops1;pid=4242;") && held.hasSuffix(";session=-;command=clusterctl apply"))
        guard case .held(let holder, _, false) = try await acquire("bbbb") else { Issue.record("not held"); return }
        #expect(holder?.id == "aaaa")

        // Release removes only its own lock.
        _ = try await shell.run("/bin/sh -s", stdin: Array(RunLockScripts.release(id: "bbbb", journal: [], path: path).utf8))
        #expect(FileManager.default.fileExists(atPath: directory + "/run.lock") || (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil)
        _ = try await shell.run("/bin/sh -s", stdin: Array(RunLockScripts.release(id: "aaaa", journal: [], path: path).utf8))
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: path)) == nil)

        // A holder whose sshd process is gone (pid 1 never has that start time; pid 999999999 does not exist).
        for session in ["999999999:1", "1:1"] {
            let stale = "clusterctl-run-lock 1;id=dead;by=x@y;pid=1;started=t;session=\(session);command=c"
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: stale)
            guard case .acquired(let tookOver, _, _) = try await acquire("cccc") else { Issue.record("not taken over"); return }
            #expect(tookOver?.id == "dead")
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: path).contains(";id=cccc;"))
            #expect(!FileManager.default.fileExists(atPath: path + ".takeover-dead"))
            try FileManager.default.removeItem(atPath: path)
        }
        // A stale lock another taker has claimed is left to it.
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "clusterctl-run-lock 1;id=dead;by=x@y;pid=1;started=t;session=999999999:1;command=c")
        try FileManager.default.createSymbolicLink(atPath: path + ".takeover-dead", withDestinationPath: "other")
        guard case .held(_, _, true) = try await acquire("dddd") else { Issue.record("claimed lock taken"); return }
    }

    /// Every acquire leaves its id as the serial; the recheck (the facts) runs unless the serial before it was
    /// the one the plan's facts read — the facts script reports it — so a run that took the lock in between
    /// (even one that released it again) makes the next apply read the facts again.
    @Test func theRecheckIsSkippedOnlyWhenNoRunTookTheLockSinceTheFactsWereRead() async throws {
        let directory = NSTemporaryDirectory() + "cct-runlock-serial-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/run.lock"
        let shell = LocalShellTransport()
        func acquire(_ id: String, skipIf serial: String?) async throws -> RunLockScripts.Outcome {
            let script = RunLockScripts.acquire(prefix: RunLockInfo.prefix(Self.identity, id: id), command: "clusterctl apply",
                                                then: "echo cleanup", recheck: "echo facts", skipRecheckIfSerial: serial, path: path)
            let result = try await shell.run("/bin/sh -s", stdin: Array(script.utf8))
            #expect(result.succeeded, "\(result.stderrText)")
            _ = try await shell.run("/bin/sh -s", stdin: Array(RunLockScripts.release(id: id, journal: [], path: path).utf8))
            return RunLockScripts.parseAcquire(result.stdout)
        }
        func serial() throws -> String { try String(contentsOfFile: RunLockScripts.serialPath(lock: path), encoding: .utf8) }
        // A host no run ever locked: the facts said "none".
        #expect(try await acquire("aaaa", skipIf: "none") == .acquired(tookOver: nil, unchanged: true, rest: Array("cleanup\n".utf8)))
        #expect(try serial() == "aaaa\n")
        // The plan read "aaaa", but run "bbbb" took (and released) the lock since: the facts are read again.
        #expect(try await acquire("bbbb", skipIf: nil) == .acquired(tookOver: nil, unchanged: false, rest: Array("cleanup\nfacts\n".utf8)))
        #expect(try await acquire("cccc", skipIf: "aaaa") == .acquired(tookOver: nil, unchanged: false, rest: Array("cleanup\nfacts\n".utf8)))
        #expect(try await acquire("dddd", skipIf: "cccc") == .acquired(tookOver: nil, unchanged: true, rest: Array("cleanup\n".utf8)))
        // An empty serial file (a full disk when it was written) is "none", as the facts report it.
        try "".write(toFile: RunLockScripts.serialPath(lock: path), atomically: true, encoding: .utf8)
        #expect(try await acquire("eeee", skipIf: "none") == .acquired(tookOver: nil, unchanged: true, rest: Array("cleanup\n".utf8)))
    }

    /// The facts script and an acquire read the serial with one function: missing or empty is `none`.
    @Test func theSerialReadsAsNoneWhenMissingOrEmpty() async throws {
        let file = NSTemporaryDirectory() + "cct-serial-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: file) }
        func read() async throws -> String {
            let script = RunLockScripts.functions + "\ncct_read_serial \(ShellQuote.quote(file)); echo \"$cct_serial\"\n"
            return try await LocalShellTransport().run("/bin/sh -s", stdin: Array(script.utf8)).stdoutText
        }
        #expect(try await read() == "none\n")
        try "".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try await read() == "none\n")
        try "abcd1234\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try await read() == "abcd1234\n")
    }

    /// The watcher left beside the lock, with a `sleep` standing in for the holder's sshd session: when the
    /// session ends with the lock still the run's, the host runs the cleanup and removes the lock by itself
    /// (a second Ctrl-C, a killed controller); a lock that another run owns by then is left alone.
    @Test(arguments: [false, true])
    func theWatcherRemovesTheLockWhenTheHoldersSessionEnds(replacedByAnotherRun: Bool) async throws {
        let directory = NSTemporaryDirectory() + "cct-runlock-watch-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let other = "clusterctl-run-lock 1;id=oooo;by=x@y;pid=2;started=t;session=-;command=c"
        let script = RunLockScripts.functions + """

            l=\(ShellQuote.quote(directory + "/run.lock"))
            sleep 30 & sp=$!
            cct_stat $sp; set -- $r
            cct_info="clusterctl-run-lock 1;id=wwww;by=x@y;pid=1;started=t;session=$sp:${20};command=c"
            ln -s "$cct_info" "$l"
            \(RunLockScripts.watcher("touch " + ShellQuote.quote(directory + "/cleaned")))
            sleep 1.5
            [ "$(readlink "$l")" = "$cct_info" ] && echo held-while-alive
            \(replacedByAnotherRun ? "rm -f \"$l\"; ln -s \(ShellQuote.quote(other)) \"$l\"" : ":")
            kill $sp; wait $sp 2>/dev/null
            i=0; while [ "$(readlink "$l" 2>/dev/null)" = "$cct_info" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
            sleep 1.5
            readlink "$l" || echo no-lock
            [ -f \(ShellQuote.quote(directory + "/cleaned")) ] && echo cleaned
            ls -a \(ShellQuote.quote(directory)) | grep -c takeover
            """
        let result = try await LocalShellTransport().run("/bin/sh -s", stdin: Array(script.utf8))
        let expected = replacedByAnotherRun ? ["held-while-alive", other, "0"] : ["held-while-alive", "no-lock", "cleaned", "0"]
        #expect(result.stdoutText.split(separator: "\n").map(String.init) == expected, "\(result.stdoutText)\(result.stderrText)")
    }

    @Test func sessionOfThisShellIsFoundThroughSshdAncestorsOnly() async throws {
        let result = try await LocalShellTransport().run(RunLockScripts.functions + "\ncct_session; cct_alive \"$$:0\" && echo alive-wrong-start; cct_stat $$; set -- $r; cct_alive \"$$:${20}\" && echo alive", stdin: [])
        #expect(result.stdoutText == "-\nalive\n", "\(result.stderrText)")
    }

    // MARK: ClusterApplier on in-memory hosts

    @Test func aHostHeldByALiveRunFailsNamingTheHolderAndNothingRuns() async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        let plan = try await fixture.plan()
        let other = RunLockInfo.prefix(Self.identity, id: "feedfacefeedface") + ";session=5:6;command=clusterctl apply"
        await fixture.transport("web1").configure { $0.runLock = other }
        let recap = await fixture.apply(plan)
        let web1 = try #require(recap.outcome(for: "web1"))
        #expect(web1.status == .failed)
        #expect(web1.message == "locked by alice@ops1 (pid 4242, since 2026-11-18T11:06:40Z, lock id feedfacefeedface: "
                + "clusterctl apply); nothing applied. Wait for it (apply --lock-timeout), or if it is stuck: "
                + "clusterctl unlock web1 --id feedfacefeedface")
        #expect(await fixture.transport("web1").commands.count == 2)   // the plan's facts, the lock attempt
        #expect(await fixture.transport("web1").runLock == other)
        #expect(await fixture.transport("web1").journalLines.isEmpty)
        #expect(recap.outcome(for: "mc1")?.status == .changed)
    }

    @Test func everyChangeIsJournalledTheLockReleasedAndConvergedHostsLeftAlone() async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        await fixture.transport("mc1").configure {
            $0.files["/etc/sysconfig/.memcached.clusterctl-tmp-0bad"] = RemoteFile(contents: [1], mode: 0o600, owner: "root", group: "root")
            $0.runLock = "clusterctl-run-lock 1;id=0ld;by=bob@ops2;pid=7;started=t;session=3:4;command=c"
            $0.runLockHolderAlive = false
        }
        let applier = ClusterApplier(parallel: 4, firewallTiming: .immediate, runLock: HostRunLock(identity: Self.identity))
        let recap = await applier.apply(try await fixture.plan(), pool: fixture.pool, checkFingerprints: false)
        #expect(recap.outcomes.allSatisfy { $0.status == .changed })
        let mc1 = await fixture.transport("mc1").journalLines
        let fields = mc1.map { $0.split(separator: " ", maxSplits: 4).dropFirst().map(String.init) }
        #expect(fields.allSatisfy { $0.count == 4 && $0[0] == "run=0123456789abcdef" && $0[1] == "by=alice@ops1" && $0[2] == "ok" })
        #expect(fields.map { $0.last! } == ["take over the stale run lock 0ld of bob@ops2 (its SSH session is gone)",
                                            "remove /etc/sysconfig/.memcached.clusterctl-tmp-0bad",
                                            "install epel-release", "install memcached", "write /etc/sysconfig/memcached",
                                            "enable memcached", "firewall chain CLUSTERCTL", "start memcached"])
        #expect(await fixture.transport("mc1").files["/etc/sysconfig/.memcached.clusterctl-tmp-0bad"] == nil)
        for name in ["mc1", "web1", "web2"] { #expect(await fixture.transport(name).runLock == nil) }

        // Converged: no lock taken, nothing journalled.
        let before = await fixture.transport("mc1").commands.count
        let again = await applier.apply(try await fixture.plan(), pool: fixture.pool, checkFingerprints: false)
        #expect(again.outcomes.allSatisfy { $0.status == .ok })
        #expect(await fixture.transport("mc1").commands.count == before + 1)   // the plan's facts only
        #expect(await fixture.transport("mc1").journalLines.count == mc1.count)
    }

    @Test func aFailedHostJournalsTheFailureAndStillReleasesItsLock() async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        await fixture.transport("web1").configure { $0.failingCommands = ["install httpd"] }
        let recap = try await fixture.converge()
        #expect(recap.outcome(for: "web1")?.status == .failed)
        let lines = await fixture.transport("web1").journalLines
        #expect(lines.count == 2)
        #expect(lines.last?.contains(" failed install httpd php php-pecl-memcache: exit status 1: simulated failure") == true)
        #expect(await fixture.transport("web1").runLock == nil)
    }

    /// Planned before another run converged the host: under the lock the facts differ, the host is planned
    /// again and nothing is done twice.
    @Test func aHostConvergedSinceThePlanIsPlannedAgainUnderTheLock() async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        let stalePlan = try await fixture.plan()
        try await fixture.converge()
        let installs = await fixture.transport("mc1").commandsMatching("yum ").count
        let replanner = PlanBuilder().replanner(for: try fixture.targets())
        let recap = await ClusterApplier(parallel: 4, firewallTiming: .immediate, replan: replanner)
            .apply(stalePlan, pool: fixture.pool, checkFingerprints: false)
        #expect(recap.outcomes.allSatisfy { $0.status == .ok }, "\(recap.text)")
        #expect(await fixture.transport("mc1").commandsMatching("yum ").count == installs)
        for name in ["mc1", "web1", "web2"] { #expect(await fixture.transport(name).runLock == nil) }
    }

    /// Without a confirmation in between, the lock's serial tells that no run took the lock since the plan's
    /// facts, and they are not read again (one facts script per host); after a person confirmed the plan
    /// (`requireRecheckUnderLock`) they are, and a change made by hand meanwhile is planned again.
    @Test(arguments: [false, true])
    func factsAreReadAgainUnderTheLockOnlyWhenAnotherRunTookItOrThePlanWasConfirmed(confirmed: Bool) async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        var plan = try await fixture.plan()
        if confirmed { plan.requireRecheckUnderLock() }
        await fixture.transport("mc1").configure { $0.installed.insert("memcached") }   // by hand, no lock
        let replanner = PlanBuilder().replanner(for: try fixture.targets())
        let recap = await ClusterApplier(parallel: 4, firewallTiming: .immediate, runLock: HostRunLock(identity: Self.identity),
                                         replan: replanner)
            .apply(plan, pool: fixture.pool, checkFingerprints: false)
        #expect(recap.outcomes.allSatisfy { $0.status == .changed }, "\(recap.text)")
        let installs = await fixture.transport("mc1").commandsMatching("yum -y install memcached").count
        #expect(installs == (confirmed ? 0 : 1))
        #expect(await fixture.transport("mc1").runLockSerial == "0123456789abcdef")
    }

    @Test func anInterruptionLetsTheRunningStepFinishStartsNothingElseAndSaysWhatDidNotRun() async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        let interruption = ApplyInterruption()
        // Ctrl-C while mc1's packages are being installed.
        let sink: ApplyEventSink = { event in
            if case .stepStarted("mc1", let step) = event, step == "install memcached" { interruption.request() }
        }
        let recap = await ClusterApplier(parallel: 1, firewallTiming: .immediate, events: sink, interruption: interruption)
            .apply(try await fixture.plan(), pool: fixture.pool, checkFingerprints: false)
        let mc1 = try #require(recap.outcome(for: "mc1"))
        #expect(mc1.status == .interrupted && mc1.applied == 2)
        #expect(mc1.notRun == ["write /etc/sysconfig/memcached", "enable memcached", "firewall chain CLUSTERCTL", "start memcached"])
        let web1 = try #require(recap.outcome(for: "web1"))
        #expect(web1.status == .interrupted && web1.applied == 0 && web1.notRun.first == "install epel-release")
        #expect(await fixture.transport("web1").commands.count == 1)   // its plan only: never locked
        #expect(await fixture.transport("mc1").runLock == nil)
        #expect(await fixture.transport("mc1").journalLines.count == 2)
        #expect(recap.text.contains("  mc1   interrupted (2 changes): did not run: write /etc/sysconfig/memcached, enable memcached"))
        #expect(recap.text.hasSuffix("Apply: 0 ok, 0 changed, 0 failed, 3 interrupted.\n"))
    }

    @Test func planShowsAHeldLockInTheHostsHeader() async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        await fixture.transport("web2").configure {
            $0.runLock = RunLockInfo.prefix(Self.identity, id: "feedfacefeedface") + ";session=5:6;command=clusterctl apply"
        }
        let text = PlanTextRenderer.render(try await fixture.plan())
        #expect(text.contains("~ web2 (web) [CentOS release 5.11 (Final), el5] (locked by alice@ops1 (pid 4242, since "
                              + "2026-11-18T11:06:40Z, lock id feedfacefeedface: clusterctl apply))\n"))
        #expect(!text.contains("~ web1 (web) [CentOS release 5.11 (Final), el5] (locked"))
    }
}
