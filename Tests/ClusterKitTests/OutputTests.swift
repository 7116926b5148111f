import Foundation
import Testing
@testable import ClusterKit
@testable import clusterctl

/// What a RunOutput or LiveProgress wrote, collected from several tasks.
final class TextCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var collected = ""
    var write: @Sendable (String) -> Void { { text in self.lock.withLock { self.collected += text } } }
    var text: String { lock.withLock { collected } }
}

let fixedDate = Date(timeIntervalSince1970: 1_764_072_000)   // 2025-11-25T12:00:00Z
/// A fixture apply with web2 failing at its package install, its events fed to `output`.
func applyWithAFailingHost(_ output: RunOutput) async throws -> ApplyRecap {
    let fixture = EngineFixture()
    await fixture.makeFresh()
    let plan = try await fixture.plan()
    await fixture.transport("web2").configure { $0.failingCommands = ["install httpd"] }
    output.beginApply(hosts: plan.hosts.map(\.host.name))
    let recap = await ClusterApplier(parallel: 4, firewallTiming: .immediate, events: output.handle)
        .apply(plan, pool: fixture.pool, checkFingerprints: false)
    output.endApply(recap)
    return recap
}

func makeOutput(_ verbosity: Verbosity = .normal, terminal: Bool = false, color: Bool = false, events: EventStream? = nil,
                log: FileHandle? = nil, secrets: [String] = [], screen: TextCollector) -> RunOutput {
    RunOutput(verbosity: verbosity, colors: Colorizer(enabled: color), events: events, isTerminal: terminal, size: (100, 50),
              log: log, secrets: secrets, now: { fixedDate }, screen: screen.write)
}

@Suite struct ProgressOutputTests {
    @Test func offATerminalOneTimestampedLinePerFinishedStep() async throws {
        let screen = TextCollector()
        let recap = try await applyWithAFailingHost(makeOutput(screen: screen))
        let lines = screen.text.split(separator: "\n").map(String.init)
        #expect(!screen.text.contains("\u{1B}"))
        #expect(lines.contains("2025-11-25T12:00:00Z mc1: install epel-release: done in 0.0s"))
        #expect(lines.contains("2025-11-25T12:00:00Z web2: install httpd php php-pecl-memcache: failed: exit status 1: "
                               + "simulated failure of: yum -y install httpd php php-pecl-memcache && rpm -q httpd php php-pecl-memcache"))
        #expect(lines.contains("2025-11-25T12:00:00Z mc1: changed (6 changes)"))
        // Nothing for starts; the recap follows the step lines, as ApplyRecap renders it.
        #expect(!screen.text.contains(": started"))
        #expect(screen.text.hasSuffix("\n\n" + recap.text))
        #expect(lines.filter { $0.hasPrefix("2025-") }.allSatisfy { $0.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ [a-z0-9]+: .+/) != nil })
    }

    @Test func onATerminalOneLivePerHostLineSettlesIntoTheRecap() async throws {
        let screen = TextCollector()
        let clock = ManualClock()
        let live = LiveProgress(hosts: ["mc1", "web1", "web2"], width: 60, colors: Colorizer(enabled: false),
                                now: clock.now, write: screen.write)
        live.handle(.hostStarted(host: "mc1"))
        live.handle(.stepStarted(host: "mc1", step: "install epel-release"))
        clock.advance(12.3)
        #expect(live.lines() == [
            "  mc1   install epel-release …                         12.3s",
            "  web1  waiting                                             ",
            "  web2  waiting                                             ",
        ])
        live.handle(.hostFinished(HostOutcome(host: "mc1", status: .changed, applied: 7, message: nil)))
        live.handle(.hostStarted(host: "web1"))
        live.handle(.stepStarted(host: "web1", step: "enable httpd"))
        live.handle(.stepFinished(host: "web1", step: "enable httpd", seconds: 0.1))
        #expect(live.lines()[1].hasPrefix("  web1  enable httpd: done   "))   // e.g. waiting for the memcache hosts
        live.handle(.stepStarted(host: "web1", step: "write /etc/php.ini with a path long enough to be cut at the edge"))
        clock.advance(65)
        let lines = live.lines()
        #expect(lines[0] == "  mc1   changed (7 changes)                            12.3s")
        #expect(lines[1] == "  web1  write /etc/php.ini with a path long enough t…  1m05s")
        #expect(lines.allSatisfy { $0.count <= 60 })   // never wraps: a wrapped line breaks the redraw
        // Each redraw moves up over the lines it drew before, clearing each line it writes.
        #expect(screen.text.contains("\u{1B}[3A\r\u{1B}[J\r\u{1B}[2K  mc1   changed (7 changes)"))
        live.finish()
        #expect(screen.text.hasSuffix("\u{1B}[3A\r\u{1B}[J"))   // gone: the recap is printed where they were
        // A tick or a late event after the end must not draw them again under the recap.
        let ended = screen.text
        live.redraw()
        live.handle(.hostStarted(host: "web2"))
        #expect(screen.text == ended)
    }

    @Test func moreHostsThanTheTerminalHasRowsShowTheRunningOnesAndACount() {
        let screen = TextCollector()
        let names = (1...10).map { "web\($0)" }
        let live = LiveProgress(hosts: names, width: 60, height: 6, colors: Colorizer(enabled: false),
                                now: { fixedDate }, write: screen.write)
        for name in names.prefix(5) { live.handle(.hostStarted(host: name)) }
        live.handle(.hostFinished(HostOutcome(host: "web1", status: .ok, applied: 0, message: nil)))
        let lines = live.lines()
        // Drawn in place, the lines must fit the rows (the cursor cannot move above the top row).
        #expect(lines.count == 4)
        #expect(lines.prefix(3).map { $0.split(separator: " ").first } == ["web2", "web3", "web4"])
        #expect(lines.last == "  … 1 done, 6 more")
    }

    @Test func aTerminalGetsLiveLinesThenTheRecapAndVerboseCommandsAboveThem() async throws {
        let screen = TextCollector()
        let output = makeOutput(.verbose, terminal: true, screen: screen)
        let recap = try await applyWithAFailingHost(output)
        output.command("chkconfig memcached on", host: "mc1", stdinBytes: 0)
        #expect(screen.text.contains("\r\u{1B}[2K  web2  failed (1 change): install httpd php php-pecl-memcache:"))
        #expect(screen.text.hasSuffix("\r\u{1B}[J" + recap.text + "2025-11-25T12:00:00Z mc1: $ chkconfig memcached on\n"))
        // -v on a terminal: the failure also as a line above the live lines, where it stays.
        #expect(screen.text.contains("2025-11-25T12:00:00Z web2: install httpd php php-pecl-memcache: failed: exit status 1"))
    }

    @Test func quietShowsErrorsAndTheRecapOnly() async throws {
        let screen = TextCollector()
        let output = makeOutput(.quiet, terminal: true, screen: screen)
        output.show("~ web1\n    + package php\n")
        output.command("yum -y install php", host: "web1", stdinBytes: 0)
        let recap = try await applyWithAFailingHost(output)
        #expect(screen.text == "2025-11-25T12:00:00Z web2: install httpd php php-pecl-memcache: failed: exit status 1: "
                + "simulated failure of: yum -y install httpd php php-pecl-memcache && rpm -q httpd php php-pecl-memcache\n"
                + recap.text)
    }

    @Test func verboseShowsEveryCommandButNeverItsStdinNorTheSudoPassword() async throws {
        let screen = TextCollector()
        let output = makeOutput(.verbose, secrets: ["s3cret-pw"], screen: screen)
        let memory = InMemoryTransport()
        let connect = output.logging { _ in memory }
        let logged = try await connect(Host(name: "web1", roles: [.web], address: "127.0.0.1", privateAddress: "10.0.0.1",
                                            ssh: SSHSettings()))
        // The worst case: sudo over the logged transport, so the log sees sudo's own command and its stdin.
        let become = BecomeTransport(base: logged, mode: .password("s3cret-pw"))
        _ = try await become.run("cat > /tmp/x", stdin: Array("file body\n".utf8))
        _ = try await logged.run("echo s3cret-pw")   // a password on a command line would still be hidden
        try await logged.upload(Array("secret file contents".utf8), to: "/etc/x", mode: 0o644)
        let text = screen.text
        #expect(!text.contains("s3cret-pw") && !text.contains("file body") && !text.contains("secret file contents"))
        #expect(text.contains("web1: $ sudo -k -S -p '' -- /bin/sh -c 'cat > /tmp/x'   [stdin: 20 bytes, not shown]"))
        #expect(text.contains("web1: $ echo [redacted]"))
        #expect(text.contains("web1: $ upload 20 bytes to /etc/x (mode 644)"))
    }

    @Test func theLogFileKeepsTheVerboseLogWhateverTheScreenShows() async throws {
        let directory = try TemplateTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("apply.log").path
        FileManager.default.createFile(atPath: path, contents: nil)
        let screen = TextCollector()
        let output = makeOutput(.quiet, log: FileHandle(forWritingAtPath: path), screen: screen)
        output.command("yum -y install php", host: "web1", stdinBytes: 0)
        let recap = try await applyWithAFailingHost(output)
        let log = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!screen.text.contains("$ yum"))
        #expect(log.contains("2025-11-25T12:00:00Z web1: $ yum -y install php\n"))
        #expect(log.contains("2025-11-25T12:00:00Z mc1: install memcached: started\n"))
        #expect(log.contains("2025-11-25T12:00:00Z mc1: install memcached: done in "))
        #expect(log.hasSuffix(recap.text))
    }
}

/// A clock tests move by hand.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current = fixedDate
    var now: @Sendable () -> Date { { self.lock.withLock { self.current } } }
    func advance(_ seconds: Double) { lock.withLock { current += seconds } }
}

@Suite struct VerifyProgressOutputTests {
    static let passed = VerifyCheck(host: "web1", check: "php.extension", passed: true, detail: "PHP loads the memcache extension")
    static let failed = VerifyCheck(host: "web1", check: "php.session-settings", passed: false,
                                    detail: "session.save_handler = files, session.save_path = \"\"; expected memcache")

    func feed(_ output: RunOutput) {
        output.beginVerify(hosts: ["mc1", "web1"])
        output.verifyProgress(.checking(host: "mc1", what: "connect"))
        output.verifyProgress(.checking(host: "web1", what: "connect"))
        output.verifyProgress(.checked(host: "mc1", what: "connect", checks: [], seconds: 0.2))
        output.verifyProgress(.checked(host: "web1", what: "connect", checks: [], seconds: 0.2))
        output.verifyProgress(.checking(host: "web1", what: "php"))
        output.verifyProgress(.checked(host: "web1", what: "php", checks: [Self.passed, Self.failed], seconds: 0.3))
        output.endVerify(VerifyReport(checks: [Self.passed, Self.failed]))
    }

    @Test func offATerminalOneLinePerHostAndPhaseThatFoundSomething() {
        let screen = TextCollector()
        feed(makeOutput(screen: screen))
        #expect(screen.text == "2025-11-25T12:00:00Z web1: php: 1 of 2 checks failed: "
                + "session.save_handler = files, session.save_path = \"\"; expected memcache\n\n")
        let quiet = TextCollector()
        feed(makeOutput(.quiet, color: true, screen: quiet))
        #expect(quiet.text.contains("\u{1B}[31m2025-11-25T12:00:00Z web1: php: 1 of 2 checks failed"))   // red, even -q
    }

    @Test func passedPhasesAreOneLineEachAndQuietHidesThem() {
        let screen = TextCollector(), quiet = TextCollector()
        for output in [makeOutput(screen: screen), makeOutput(.quiet, screen: quiet)] {
            output.verifyProgress(.checked(host: "web1", what: "php", checks: [Self.passed], seconds: 0.25))
        }
        #expect(screen.text == "2025-11-25T12:00:00Z web1: php: 1 check passed in 0.2s\n")
        #expect(quiet.text.isEmpty)
    }

    @Test func onATerminalLivePhaseLinesThatVanishBeforeTheReport() {
        let screen = TextCollector()
        let output = makeOutput(terminal: true, screen: screen)
        output.beginVerify(hosts: ["mc1", "web1"])
        output.verifyProgress(.checking(host: "web1", what: "sessions"))
        #expect(screen.text.contains("web1  sessions …"))
        #expect(screen.text.contains("mc1   waiting"))
        output.verifyProgress(.checked(host: "web1", what: "sessions", checks: [Self.failed], seconds: 1))
        #expect(screen.text.contains("web1  sessions (1 failed): done"))
        output.endVerify(VerifyReport(checks: [Self.failed]))
        #expect(screen.text.hasSuffix("\u{1B}[2A\r\u{1B}[J"))   // the lines are gone: the report goes there
        #expect(!screen.text.contains("2025-11-25T12:00:00Z"))      // no plain lines on a terminal
    }

    @Test func jsonEventsSendEachCheckAsItIsMadeThenTheSummary() throws {
        let screen = TextCollector(), stdout = TextCollector()
        let events = EventStream(write: stdout.write, now: { fixedDate })
        feed(makeOutput(events: events, screen: screen))
        let types = try stdout.text.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])["type"] as? String
        }
        #expect(types == ["check", "check", "verify-summary"])
    }
}
