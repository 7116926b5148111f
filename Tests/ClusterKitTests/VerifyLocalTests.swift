import Foundation
import Testing
@testable import ClusterKit

/// Runs the real verify probes with /bin/sh, real PHP and a real memcached, all on loopback: every "host" of
/// the inventory is this machine. Proves the probe scripts and their parsing; the namespace cluster tests prove
/// verify against separate hosts with firewalls.
@Suite(.serialized) struct VerifyLocalTests {
    /// A memcached and a PHP web server on loopback ports, with a php.ini pointing sessions at that memcached.
    final class LocalStack {
        let dir: String
        let memcachedPort = Int.random(in: 20000..<30000)
        let webPort = Int.random(in: 30000..<40000)

        init(savePathPort: Int? = nil) throws {
            dir = NSTemporaryDirectory() + "cct-verify-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir + "/www", withIntermediateDirectories: true)
            let ini = """
                [PHP]
                display_errors = Off
                [Session]
                session.save_handler = memcache
                session.save_path = "tcp://127.0.0.1:\(savePathPort ?? memcachedPort)"

                """
            try ini.write(toFile: phpIni, atomically: true, encoding: .utf8)
        }

        var phpIni: String { dir + "/php.ini" }

        /// Starts a daemon with every descriptor above 2 closed: Foundation's Process notices a child's exit
        /// through an inherited descriptor, so a daemon holding it would make the starting shell never "exit".
        static let closeFDs = #"perl -MPOSIX -e 'POSIX::close($_) for 3..1023; exec @ARGV or die "exec: $!"' --"#

        /// Servers run as daemons with pid files (not Foundation.Process children), so `stop()` is a plain kill.
        func startMemcached() async throws {
            // Foreground + `$!`: memcached -d writes its pid file after dropping to `nobody`, who cannot write here.
            try await shell("\(Self.closeFDs) nohup memcached -l 127.0.0.1 -p \(memcachedPort) -U 0 -u nobody >/dev/null 2>&1 & echo $! > \(dir)/memcached.pid")
        }

        func startWeb() async throws {
            try await shell("\(Self.closeFDs) nohup php -S 127.0.0.1:\(webPort) -c \(phpIni) -t \(dir)/www >/dev/null 2>&1 & echo $! > \(dir)/php.pid")
        }

        private func shell(_ command: String) async throws {
            let r = try await LocalShellTransport().run(command)
            if !r.succeeded { Issue.record("\(command): \(r.stderrText)") }
        }

        func stop() async {
            _ = try? await LocalShellTransport().run(
                "for f in \(dir)/*.pid; do [ -f \"$f\" ] && kill -9 \"$(cat \"$f\")\"; done; rm -rf \(dir)")
        }

        /// Waits until a TCP port accepts connections (servers start asynchronously).
        func waitForPort(_ port: Int) async throws {
            for _ in 0..<100 {
                let r = try await LocalShellTransport().run("php -n -r 'exit(@fsockopen(\"127.0.0.1\",\(port)) ? 0 : 1);'")
                if r.succeeded { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            Issue.record("port \(port) never opened")
        }

        func verifier(otherHost: Bool, events: @escaping VerifyEventSink = { _ in }) -> Verifier {
            let ssh = SSHSettings()
            var hosts = [
                Host(name: "mc1", roles: [.memcache], address: "127.0.0.1", privateAddress: "127.0.0.1", ssh: ssh),
                Host(name: "web1", roles: [.web], address: "127.0.0.1", privateAddress: "127.0.0.1", ssh: ssh),
                Host(name: "web2", roles: [.web], address: "127.0.0.1", privateAddress: "127.0.0.1", ssh: ssh),
            ]
            if otherHost {
                hosts.append(Host(name: "other1", roles: [], address: "127.0.0.2", privateAddress: "127.0.0.2", ssh: ssh))
            }
            let inventory = Inventory(ssh: ssh, memcached: MemcachedSettings(port: memcachedPort), php: PHPSettings(),
                                      hosts: hosts)
            var paths = Verifier.Paths()
            paths.phpIni = phpIni
            paths.documentRoot = dir + "/www"
            paths.webPort = webPort
            return Verifier(
                inventory: inventory,
                expected: .init(handler: "memcache", savePath: "tcp://127.0.0.1:\(memcachedPort)"),
                paths: paths, connect: { _ in LocalShellTransport() }, events: events)
        }

    }

    /// Runs `body` with a fresh stack and always stops its servers and removes its files afterwards.
    func withStack(_ savePathPort: Int? = nil, _ body: (LocalStack) async throws -> Void) async throws {
        let stack = try LocalStack(savePathPort: savePathPort)
        do { try await body(stack) } catch { await stack.stop(); throw error }
        await stack.stop()
    }

    func check(_ report: VerifyReport, host: String, _ name: String) -> [VerifyCheck] {
        report.checks.filter { $0.host == host && $0.check == name }
    }

    @Test func healthyStackPassesEveryCheckAndCleansUp() async throws {
        try await withStack() { stack in
            try await stack.startMemcached()
            try await stack.startWeb()
            try await stack.waitForPort(stack.memcachedPort)
            try await stack.waitForPort(stack.webPort)

            let events = EventCollector()
            let report = await stack.verifier(otherHost: false, events: events.sink).run()
            #expect(report.passed, "\(report.text)")
            // Progress: every check of the report was sent once, in a `checked` of its host that followed a
            // `checking` of the same host and phase; phases in order.
            let sent = events.all.flatMap { event -> [VerifyCheck] in
                if case .checked(_, _, let checks, _) = event { return checks } else { return [] }
            }
            let key: (VerifyCheck) -> String = { "\($0.host) \($0.check) \($0.passed) \($0.detail)" }
            #expect(!sent.isEmpty && sent.map(key).sorted() == report.checks.map(key).sorted())
            for case .checked(let host, let what, let checks, _) in events.all {
                #expect(checks.allSatisfy { $0.host == host })
                #expect(events.all.contains(.checking(host: host, what: what)))
            }
            let web1Phases = events.all.compactMap { event -> String? in
                if case .checking("web1", let what) = event { return what } else { return nil }
            }
            #expect(web1Phases == ["connect", "reachability", "php", "sessions"])
            #expect(!events.all.contains(.checking(host: "mc1", what: "php")))
            #expect(check(report, host: "mc1", "memcached.stats").first?.detail.contains("version 1.") == true)
            #expect(check(report, host: "web1", "memcached.reachable").count == 1)
            #expect(check(report, host: "web2", "php.extension").first?.passed == true)
            #expect(check(report, host: "web2", "session.shared").first?.detail.contains("written on web1") == true)
            #expect(check(report, host: "web1", "session.shared").first?.detail.contains("written on web2") == true)
            #expect(report.checks.filter { $0.check == "http.session-shared" && $0.passed }.count == 2)
            let same = report.checks.filter { $0.check == "session.same-servers" }
            #expect(same.count == 1 && same[0].passed, "\(report.text)")
            #expect(same.first?.detail.contains("session.save_path=tcp://127.0.0.1:\(stack.memcachedPort)") == true)
            // Nothing left behind: no test page, and the sessions are gone from memcached.
            #expect(try FileManager.default.contentsOfDirectory(atPath: stack.dir + "/www").isEmpty)
            let probe = RemoteProbes.memcachedProbe(targets: [("127.0.0.1", stack.memcachedPort)], command: "stats")
            let stats = try await LocalShellTransport().run("/bin/sh -s", stdin: Array(probe.utf8))
            let lines = ProbeOutput.tcpResults(stats.stdoutText).first?.lines ?? []
            #expect(ProbeOutput.stats(lines)["curr_items"] == "0", "\(stats.stdoutText)")
            #expect(report.text.hasSuffix("Verify: all \(report.checks.count) checks passed.\n"))
        }
    }

    @Test func nonWebHostReachingMemcachedFails() async throws {
        try await withStack() { stack in
            try await stack.startMemcached()
            try await stack.startWeb()
            try await stack.waitForPort(stack.memcachedPort)
            try await stack.waitForPort(stack.webPort)

            let report = await stack.verifier(otherHost: true).run()
            #expect(!report.passed)
            let blocked = check(report, host: "other1", "memcached.blocked")
            #expect(blocked.count == 1 && blocked[0].passed == false)
            #expect(blocked.first?.detail.contains("is not a web host but reaches memcached on mc1") == true)
            #expect(report.failedCount == 1, "\(report.text)")
            #expect(report.text.contains("✗ other1: is not a web host but reaches memcached"))
        }
    }

    @Test func wrongSavePathAndNoMemcachedFail() async throws {
        try await withStack(1) { stack in
            try await stack.startWeb()
            try await stack.waitForPort(stack.webPort)

            let report = await stack.verifier(otherHost: false).run()
            #expect(!report.passed)
            #expect(check(report, host: "mc1", "memcached.stats").first?.passed == false)
            #expect(check(report, host: "mc1", "memcached.stats").first?.detail.contains("does not answer stats on 127.0.0.1:") == true)
            #expect(check(report, host: "web1", "memcached.reachable").first?.passed == false)
            let settings = check(report, host: "web1", "php.session-settings")
            #expect(settings.first?.passed == false)
            #expect(settings.first?.detail.contains("tcp://127.0.0.1:1\"; expected memcache") == true)
            #expect(check(report, host: "web2", "session.shared").first?.passed == false)
        }
    }

    @Test func oneProcessReadsManySessionsIncludingMissingOnes() async throws {
        try await withStack { stack in
            try await stack.startMemcached()
            try await stack.waitForPort(stack.memcachedPort)
            for id in ["cctverifya1", "cctverifyc3"] {
                let wrote = try await LocalShellTransport().run(
                    "/bin/sh -s", stdin: Array(RemoteProbes.sessionWrite(phpIni: stack.phpIni, id: id, value: "v-\(id)").utf8))
                #expect(wrote.stdoutText.contains("WROTE"), "\(wrote.stdoutText)")
            }
            let script = RemoteProbes.sessionRead(phpIni: stack.phpIni, ids: ["cctverifya1", "cctverifyb2", "cctverifyc3"])
            #expect(script.components(separatedBy: "php -c").count == 2, "one PHP process for all ids")
            let out = try await LocalShellTransport().run("/bin/sh -s", stdin: Array(script.utf8)).stdoutText
            #expect(ProbeOutput.field("READ cctverifya1", in: out) == "v-cctverifya1", "\(out)")
            #expect(ProbeOutput.field("READ cctverifyb2", in: out) == "", "\(out)")
            #expect(ProbeOutput.field("READ cctverifyc3", in: out) == "v-cctverifyc3", "\(out)")
            #expect(!out.contains("Warning"), "\(out)")
            // One process destroys them all.
            let destroy = RemoteProbes.sessionDestroy(phpIni: stack.phpIni, ids: ["cctverifya1", "cctverifyb2", "cctverifyc3"])
            #expect(destroy.components(separatedBy: "php -c").count == 2, "one PHP process for all ids")
            _ = try await LocalShellTransport().run("/bin/sh -s", stdin: Array(destroy.utf8))
            let after = try await LocalShellTransport().run("/bin/sh -s", stdin: Array(script.utf8)).stdoutText
            for id in ["cctverifya1", "cctverifyb2", "cctverifyc3"] {
                #expect(ProbeOutput.field("READ \(id)", in: after) == "", "\(after)")
            }
        }
    }

    @Test func parsesProbeReports() {
        let out = "BEGIN 10.0.0.5 11211\nR STAT version 1.4.5\nR END\nOK\nBEGIN 10.0.0.6 11211\nFAIL Connection refused\n"
            + "BEGIN 10.0.0.7 11211\nNOCLIENT\n"
        let r = ProbeOutput.tcpResults(out)
        #expect(r.count == 3)
        #expect(r[0].connected && ProbeOutput.stats(r[0].lines)["version"] == "1.4.5")
        #expect(!r[1].connected && r[1].failure == "Connection refused")
        #expect(r[2].noClient && !r[2].connected)
        #expect(ProbeOutput.tcpResults("BEGIN 10.0.0.8 1\n")[0].failure == "no report")
    }

    /// php, then perl, then nc answer with the same report, every target from one client process: a live
    /// memcached, then a closed port (refused), then the live one again (a failed target ends only itself).
    @Test func phpPerlAndNcProbeAllTargetsAndSpeakTheSameReport() async throws {
        try await withStack() { stack in
            try await stack.startMemcached()
            try await stack.waitForPort(stack.memcachedPort)
            let live = ("127.0.0.1", stack.memcachedPort)
            let script = RemoteProbes.memcachedProbe(targets: [live, ("127.0.0.1", 1), live], command: "version")
            // Hide php (and then perl) so the next client in the chain answers.
            for hidden in [[], ["php"], ["php", "perl"]] {
                let bin = stack.dir + "/bin-\(hidden.count)"
                try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
                for tool in ["php", "perl", "nc", "sed", "tr", "printf"] where !hidden.contains(tool) {
                    let target = "/usr/bin/\(tool)"
                    if FileManager.default.fileExists(atPath: target) {
                        try FileManager.default.createSymbolicLink(atPath: "\(bin)/\(tool)", withDestinationPath: target)
                    }
                }
                let r = try await LocalShellTransport(environment: ["PATH": bin]).run("/bin/sh -s", stdin: Array(script.utf8))
                let results = ProbeOutput.tcpResults(r.stdoutText)
                #expect(results.map(\.port) == [stack.memcachedPort, 1, stack.memcachedPort], "hidden \(hidden): \(r.stdoutText)")
                for index in [0, 2] where index < results.count {
                    #expect(results[index].connected, "hidden \(hidden): \(r.stdoutText) \(r.stderrText)")
                    #expect(results[index].lines.contains { $0.hasPrefix("VERSION 1.") }, "hidden \(hidden): \(r.stdoutText)")
                }
                #expect(results.count == 3 && !results[1].connected && results[1].failure != "no report",
                        "hidden \(hidden): \(r.stdoutText)")
            }
            #expect(script.components(separatedBy: "php -n -r").count == 2, "one PHP process for all targets")
        }
    }
}

/// Verify events, from several tasks.
final class EventCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [VerifyEvent] = []
    var sink: VerifyEventSink { { event in self.lock.withLock { self.events.append(event) } } }
    var all: [VerifyEvent] { lock.withLock { events } }
}

/// The ring of session reads stands for every pair only when all web hosts place sessions alike.
struct SameServersCheckTests {
    func written(_ host: String, _ savePath: String) -> SessionSharingCheck.WriteResult {
        .init(host: host, output: "WROTE\nCONF session.save_handler=memcache\nCONF session.save_path=\(savePath)\n")
    }

    @Test func oneConfigurationPassesOnce() {
        let checks = SessionSharingCheck.sameServersCheck((1...4).map { written("web\($0)", "tcp://a:1, tcp://b:1") })
        #expect(checks.count == 1)
        #expect(checks[0].passed && checks[0].detail.hasPrefix("all 4 web hosts have the same session configuration"))
    }

    @Test func aHostWithAnotherServerListFailsByName() {
        var results = (1...4).map { written("web\($0)", "tcp://a:1, tcp://b:1") }
        results[2] = written("web3", "tcp://b:1, tcp://a:1")
        results.append(.init(host: "web5", output: "FAIL session_start\n"))   // no CONF: judged by session.write
        let checks = SessionSharingCheck.sameServersCheck(results)
        #expect(checks.count == 1)
        #expect(checks[0].host == "web3" && !checks[0].passed)
        #expect(checks[0].detail.contains("session.save_path=tcp://b:1, tcp://a:1; 3 of 4 have"), "\(checks[0].detail)")
    }
}
