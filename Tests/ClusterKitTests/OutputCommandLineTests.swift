import Foundation
import Testing
import ClusterKit

/// The built binary's output, against an inventory whose hosts refuse connections at once (closed port 1 on
/// loopback addresses: no traffic leaves the machine and no test cluster is needed). Content is tested on the
/// renderers (ProgressOutputTests, EventStreamTests); these check the wiring: terminal detection, colour,
/// streams.
@Suite struct OutputCommandLineTests {
    static func unreachableInventory() throws -> (directory: URL, path: String) {
        let directory = try TemplateTests.temporaryDirectory()
        let path = directory.appendingPathComponent("inventory.json").path
        try """
            {
              "ssh": { "user": "root", "port": 1, "config": "none", "knownHostsFile": "\(directory.path)/known_hosts" },
              "hosts": {
                "mc1": { "roles": ["memcache"], "address": "127.0.0.2", "privateAddress": "10.180.0.5" },
                "web1": { "roles": ["web"], "address": "127.0.0.3", "privateAddress": "10.180.0.11" }
              }
            }
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return (directory, path)
    }

    /// Under a pseudo-terminal (util-linux `script`): live lines redrawn in place, colour, then the recap.
    @Test func onATerminalLiveLinesSettleIntoTheColouredRecap() throws {
        let (directory, inventory) = try Self.unreachableInventory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let command = "\(CommandLineRun.binary.path) apply -i \(inventory) --yes"
        let run = try ExternalTool.run("script", ["-qfec", command, "/dev/null"], environment: ["NO_COLOR": ""])
        let out = run.stdout
        #expect(run.status == 1)
        // A line per host, drawn, then redrawn over (cursor up, clear) as the host finishes.
        #expect(out.contains("\r\u{1B}[2K  mc1   "))
        #expect(out.contains("\r\u{1B}[2K\u{1B}[31m  web1  failed: ssh 127.0.0.3:1: connect failed"))
        #expect(out.contains("\u{1B}[2A\r\u{1B}[J"))
        // ... removed at the end, the recap printed in their place, coloured.
        let recap = try #require(out.range(of: "\u{1B}[2A\r\u{1B}[J\u{1B}[1mRecap:\u{1B}[0m", options: .backwards))
        #expect(out[recap.upperBound...].contains("\u{1B}[31m  mc1   failed: ssh 127.0.0.2:1: connect failed"))
        #expect(out.hasSuffix("\u{1B}[1mApply: 0 ok, 0 changed, 2 failed.\u{1B}[0m\r\n" + ApplyRecap.nextAfterFailure + "\r\n"))
        #expect(!out.contains(/\d\d:\d\d:\d\dZ/))   // no timestamped lines on a terminal

        // NO_COLOR: the same live lines, without colour.
        let plain = try ExternalTool.run("script", ["-qfec", command, "/dev/null"], environment: ["NO_COLOR": "1"])
        #expect(plain.stdout.contains("\u{1B}[2A\r\u{1B}[J") && plain.stdout.contains("\r\u{1B}[2K  web1  failed: "))
        #expect(!plain.stdout.contains(/\x{1B}\[\d+m/))
    }

    @Test func offATerminalTimestampedLinesAndColourOnlyWhenAsked() throws {
        let (directory, inventory) = try Self.unreachableInventory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try CommandLineRun.run(["apply", "-i", inventory, "--yes"])
        #expect(run.status == 1)
        #expect(!run.stdout.contains("\u{1B}"))
        #expect(run.stdout.contains(/\n\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ mc1: failed: ssh 127.0.0.2:1: connect failed/))
        #expect(run.stdout.hasSuffix("Apply: 0 ok, 0 changed, 2 failed.\n" + ApplyRecap.nextAfterFailure + "\n"))

        let coloured = try CommandLineRun.run(["apply", "-i", inventory, "--yes", "--color", "always"])
        #expect(coloured.stdout.contains("\u{1B}[1mApply: 0 ok, 0 changed, 2 failed.\u{1B}[0m"))
        #expect(!coloured.stdout.contains("\u{1B}[2K"))   // colour, but no live lines off a terminal

        let plan = try CommandLineRun.run(["plan", "-i", inventory, "--color", "always"])
        #expect(plan.stdout.hasPrefix("\u{1B}[31m! mc1: cannot plan: "))
        #expect(plan.stdout.contains("\u{1B}[1mPlan: 0 of 2 hosts change;"))
        #expect(!(try CommandLineRun.run(["plan", "-i", inventory])).stdout.contains("\u{1B}"))

        let quiet = try CommandLineRun.run(["apply", "-i", inventory, "--yes", "-q"])
        #expect(!quiet.stdout.contains("Plan:") && quiet.stdout.contains("Recap:"))
        #expect(try CommandLineRun.run(["apply", "-i", inventory, "-q", "-v"]).status == 64)
    }

    @Test func jsonEventsOnStdoutAndTheTextOnStderr() throws {
        let (directory, inventory) = try Self.unreachableInventory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("apply.log").path
        let apply = try CommandLineRun.run(["apply", "-i", inventory, "--yes", "--json", "--log-file", log])
        #expect(apply.status == 1)
        let events = try parseEvents(apply.stdout)
        let types = events.map { $0["type"] as? String ?? "?" }
        #expect(types.first == "version" && types[1] == "plan-summary" && types.last == "recap")
        #expect(types.filter { $0 == "host-started" }.count == 2 && types.filter { $0 == "host-finished" }.count == 2)
        #expect(apply.stderr.contains("Plan: 0 of 2 hosts change") && apply.stderr.contains("Recap:"))
        // The log keeps the verbose record although the screen showed the normal text.
        let logged = try String(contentsOfFile: log, encoding: .utf8)
        #expect(logged.contains("apply started") && logged.contains("mc1: started") && logged.contains("Recap:"))

        let verify = try CommandLineRun.run(["verify", "-i", inventory, "--json-events"])
        #expect(verify.status == 1)
        let checks = try parseEvents(verify.stdout)
        #expect(checks.map { $0["type"] as? String } == ["version", "check", "check", "verify-summary"])
        #expect(checks.dropFirst().allSatisfy { $0["passed"] as? Bool == false })
        // verify --json is still the single document it always was.
        let document = try CommandLineRun.run(["verify", "-i", inventory, "--json"])
        let parsed = try JSONSerialization.jsonObject(with: Data(document.stdout.utf8)) as? [String: Any]
        #expect(parsed?["passed"] as? Bool == false && (parsed?["checks"] as? [Any])?.count == 2)
    }
}
