import Foundation
import Testing
@testable import ClusterKit
@testable import clusterctl

@Suite struct ColorTests {
    @Test(arguments: [
        (ColorMode.auto, true, [String: String](), true),
        (.auto, false, [:], false),                        // a pipe or file: no colour unless asked
        (.auto, true, ["NO_COLOR": "1"], false),
        (.auto, true, ["NO_COLOR": ""], true),             // no-color.org: only a non-empty value counts
        (.always, false, [:], true),
        (.always, true, ["NO_COLOR": "1"], true),          // the flag is the operator's explicit word
        (.never, true, [:], false),
    ])
    func colourIsDecidedByTerminalNoColorAndTheFlag(_ mode: ColorMode, _ terminal: Bool, _ environment: [String: String],
                                                    _ expected: Bool) {
        #expect(mode.enabled(isTerminal: terminal, environment: environment) == expected)
    }

    static let planText = """
        ~ web1 (web) [CentOS release 5.5 (Final), el5]
            + package php
            ~ file /etc/php.ini (content)
                --- /etc/php.ini
                +++ /etc/php.ini
                @@ -1 +1 @@
                -session.save_handler = files
                +session.save_handler = memcache
            > start httpd (not running)
            ↻ restart memcached (config changed)
        ! web2: cannot plan: unreachable
          mc1 [CentOS release 5.5 (Final), el5]: no changes

        Plan: 1 of 3 hosts change; 1 packages, 1 files, 2 services, 0 firewall chains.

        """

    @Test func planLinesAreColouredByTheirMarkerAsTerraformDoes() {
        let lines = Colorizer(enabled: true).plan(Self.planText).split(separator: "\n", omittingEmptySubsequences: false)
        let green = "\u{1B}[32m", yellow = "\u{1B}[33m", red = "\u{1B}[31m", cyan = "\u{1B}[36m", bold = "\u{1B}[1m"
        #expect(lines[0] == "\(yellow)~ web1 (web) [CentOS release 5.5 (Final), el5]\u{1B}[0m")
        #expect(lines[1].hasPrefix(green) && lines[2].hasPrefix(yellow))
        #expect(lines[3].hasPrefix(bold) && lines[4].hasPrefix(bold) && lines[5].hasPrefix(bold))   // diff headers
        #expect(lines[6].hasPrefix(red) && lines[7].hasPrefix(green))
        #expect(lines[8].hasPrefix(cyan) && lines[9].hasPrefix(yellow))
        #expect(lines[10].hasPrefix(red))                 // a host that failed
        #expect(lines[11] == "  mc1 [CentOS release 5.5 (Final), el5]: no changes")
        #expect(lines[13].hasPrefix(bold))                 // the summary
        // Stripped of its escapes, the text is PlanTextRenderer's, byte for byte.
        #expect(lines.joined(separator: "\n").replacing(/\x{1B}\[\d+m/, with: "") == Self.planText)
    }

    @Test func disabledColourLeavesTextUntouched() {
        let colors = Colorizer(enabled: false)
        #expect(colors.plan(Self.planText) == Self.planText)
        let recap = ApplyRecap(outcomes: [HostOutcome(host: "mc1", status: .failed, applied: 0, message: "x")]).text
        #expect(colors.recap(recap) == recap)
    }

    @Test func recapAndVerifyAreColouredByOutcome() {
        let recap = ApplyRecap(outcomes: [
            HostOutcome(host: "mc1", status: .ok, applied: 0, message: nil),
            HostOutcome(host: "web1", status: .changed, applied: 3, message: nil),
            HostOutcome(host: "web2", status: .failed, applied: 1, message: "install httpd: exit status 1"),
        ])
        let lines = Colorizer(enabled: true).recap(recap.text).split(separator: "\n")
        let starts = ["\u{1B}[1mRecap:", "\u{1B}[32m  mc1", "\u{1B}[33m  web1", "\u{1B}[31m  web2", "\u{1B}[1mApply:", "Next: fix what"]
        #expect(zip(lines, starts).allSatisfy { $0.hasPrefix($1) } && lines.count == starts.count, "\(lines)")
        let report = VerifyReport(checks: [VerifyCheck(host: "mc1", check: "a", passed: true, detail: "fine"),
                                           VerifyCheck(host: "web1", check: "b", passed: false, detail: "broken")])
        #expect(Colorizer(enabled: true).verify(report.text)
                == "\u{1B}[32m✓ mc1: fine\u{1B}[0m\n\u{1B}[31m✗ web1: broken\u{1B}[0m\n\n"
                + "\u{1B}[1m\u{1B}[31mVerify: 1 of 2 checks failed.\u{1B}[0m\u{1B}[0m\n"
                + VerifyReport.nextAfterFailure + "\n")
    }
}

/// Parses NDJSON the way a consumer would: every line one object.
func parseEvents(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String: Any]] {
    #expect(text.hasSuffix("\n"), sourceLocation: sourceLocation)
    return try text.split(separator: "\n").map { line in
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], sourceLocation: sourceLocation)
    }
}

@Suite struct EventStreamTests {
    @Test func applyStreamHasEveryEventTypeAndTheFailingHostsSequence() async throws {
        let stdout = TextCollector(), screen = TextCollector()
        let stream = EventStream(write: stdout.write, now: { fixedDate })
        stream.versionEvent(command: "apply")
        let output = makeOutput(events: stream, screen: screen)
        let summary = PlanSummary(hosts: 3, changedHosts: 3, failedHosts: 0, packages: 5, files: 3, services: 4, firewallChains: 3)
        stream.planSummary(summary)
        let recap = try await applyWithAFailingHost(output)
        let events = try parseEvents(stdout.text)
        let types = events.map { $0["type"] as? String ?? "?" }

        #expect(events[0]["format"] as? String == "clusterctl-events" && events[0]["version"] as? Int == 1)
        #expect(events[0]["clusterctl"] as? String == Version.clusterctl && events[0]["command"] as? String == "apply")
        #expect(Set(types) == ["version", "plan-summary", "host-started", "step-started", "step-finished", "step-failed",
                               "host-finished", "recap"])
        #expect(types.first == "version" && types[1] == "plan-summary" && types.last == "recap")
        #expect(events.allSatisfy { $0["time"] as? String == "2025-11-25T12:00:00.000Z" })
        let planned = try #require(events[1]["summary"] as? [String: Int])
        #expect(planned == ["hosts": 3, "changedHosts": 3, "failedHosts": 0, "packages": 5, "files": 3, "services": 4,
                            "firewallChains": 3])

        let web2 = events.filter { $0["host"] as? String == "web2" }
        #expect(web2.map { "\($0["type"]!) \($0["step"] ?? "")" } == [
            "host-started ", "step-started install epel-release", "step-finished install epel-release",
            "step-started install httpd php php-pecl-memcache", "step-failed install httpd php php-pecl-memcache",
            "host-finished ",
        ])
        #expect((web2[2]["seconds"] as? Double).map { $0 >= 0 } == true)
        #expect((web2[4]["message"] as? String)?.hasPrefix("exit status 1: simulated failure of: yum") == true)
        #expect(web2[5]["status"] as? String == "failed" && web2[5]["applied"] as? Int == 1)
        #expect(web2[5]["message"] as? String == recap.outcome(for: "web2")?.message)

        let last = try #require(events.last)
        #expect(last["failed"] as? Bool == true)
        #expect(last["counts"] as? [String: Int] == ["ok": 0, "changed": 2, "failed": 1])
        let hosts = try #require(last["hosts"] as? [[String: Any]])
        #expect(hosts.map { $0["host"] as? String } == ["mc1", "web1", "web2"])
        #expect(hosts.map { $0["status"] as? String } == ["changed", "changed", "failed"])
        // The human text went to the screen, not into the stream.
        #expect(screen.text.contains("Recap:") && !stdout.text.contains("Recap:"))
    }

    @Test func verifyStreamHasOneEventPerCheckThenTheSummary() throws {
        let stdout = TextCollector()
        let stream = EventStream(write: stdout.write, now: { fixedDate })
        stream.versionEvent(command: "verify")
        let report = VerifyReport(checks: [VerifyCheck(host: "mc1", check: "memcached.running", passed: true, detail: "up"),
                                           VerifyCheck(host: "web1", check: "php.extension", passed: false, detail: "no")])
        report.checks.forEach(stream.check)
        stream.verifySummary(report)
        let events = try parseEvents(stdout.text)
        #expect(events.map { $0["type"] as? String } == ["version", "check", "check", "verify-summary"])
        #expect(events[2]["host"] as? String == "web1" && events[2]["check"] as? String == "php.extension")
        #expect(events[2]["passed"] as? Bool == false && events[2]["detail"] as? String == "no")
        #expect(events[3]["passed"] as? Bool == false && events[3]["checks"] as? Int == 2 && events[3]["failedChecks"] as? Int == 1)
    }
}
