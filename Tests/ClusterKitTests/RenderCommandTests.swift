import Foundation
import Testing
@testable import ClusterKit

/// Runs the real `clusterctl` binary (built alongside the tests) the way a user does.
struct CommandLineRun {
    var status: Int32
    var stdout: String
    var stderr: String

    static var binary: URL {
        // The test runner sits in the build directory next to the clusterctl executable.
        let runner = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = runner.deletingLastPathComponent()
        while directory.path != "/" && !FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent("clusterctl").path) {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("clusterctl")
    }

    static func run(_ arguments: [String]) throws -> CommandLineRun {
        let binary = Self.binary
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "clusterctl binary not found near the test runner"])
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = InventoryLoaderTests.repositoryRoot
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandLineRun(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                              stderr: String(decoding: stderr, as: UTF8.self))
    }
}

@Suite struct RenderCommandTests {
    static let example = InventoryLoaderTests.repositoryRoot.appendingPathComponent("inventory.example.json").path

    @Test func validateAcceptsTheExample() throws {
        let result = try CommandLineRun.run(["validate", "-i", Self.example])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "\(Self.example): OK: 4 hosts (1 memcache, 2 web), session handler memcache\n")
    }

    @Test func validateReportsEveryProblemAndFails() throws {
        let directory = try TemplateTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("bad.json").path
        try "{\n  \"memcached\": { \"port\": 0 },\n  \"hosts\": { \"mc1\": { \"roles\": [\"memcache\"], \"address\": \"203.0.113.10\" } }\n}\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let result = try CommandLineRun.run(["validate", "-i", file])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == """
            \(file):2:26: memcached.port: port 0 is outside 1-65535
            \(file):3:12: hosts: no host has the "web" role; at least one is required
            \(file): 2 problems; nothing was done. Next: fix them and check again with: clusterctl validate -i \(file)

            """)
    }

    @Test func renderWritesTheLayoutIsDeterministicAndRefusesNonEmptyDirectories() throws {
        let directory = try TemplateTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = directory.appendingPathComponent("first").path, second = directory.appendingPathComponent("second").path

        let result = try CommandLineRun.run(["render", "-i", Self.example, "--out", first])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("Rendered 4 hosts into \(first)/ (session handler memcache):\n"))
        #expect(result.stdout.contains("  mc1       memcache      el5*: etc/sysconfig/memcached, firewall.rules (6 firewall rules)\n"))
        #expect(result.stdout.contains("* no os in the inventory: rendered for EL 5;"))
        #expect(try CommandLineRun.run(["render", "-i", Self.example, "--out", second]).status == 0)

        let firstTree = try RenderGoldenTests.readTree(URL(fileURLWithPath: first))
        #expect(firstTree.keys.sorted() == [
            "mc1/etc/sysconfig/memcached", "mc1/firewall.rules", "monitor1/firewall.rules",
            "web1/firewall.rules", "web1/php-session.ini", "web2/firewall.rules", "web2/php-session.ini",
        ])
        #expect(firstTree == (try RenderGoldenTests.readTree(URL(fileURLWithPath: second))))
        #expect(firstTree["web1/php-session.ini"]?.contains("session.save_path = \"tcp://10.180.0.5:11211\"\n") == true)

        let refused = try CommandLineRun.run(["render", "-i", Self.example, "--out", first])
        #expect(refused.status == 1)
        #expect(refused.stderr == "\(first): directory is not empty (use --force to overwrite the rendered files in it)\n")

        try "stale".write(toFile: first + "/mc1/firewall.rules", atomically: true, encoding: .utf8)
        #expect(try CommandLineRun.run(["render", "-i", Self.example, "--out", first, "--force"]).status == 0)
        #expect(try RenderGoldenTests.readTree(URL(fileURLWithPath: first)) == firstTree)
    }

    @Test func badInventoryWritesNothing() throws {
        let directory = try TemplateTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("bad.json").path
        try "{ \"hosts\": { \"mc1\": { \"roles\": [\"memcache\"], \"address\": \"203.0.113.10;reboot\" } } }"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let out = directory.appendingPathComponent("out").path
        let result = try CommandLineRun.run(["render", "-i", file, "--out", out])
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(file):1:57: hosts.mc1.address: \"203.0.113.10;reboot\" is not an IP address or host name\n"))
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func brokenTemplateOverrideWritesNothing() throws {
        let directory = try TemplateTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let templates = directory.appendingPathComponent("templates")
        try FileManager.default.createDirectory(at: templates, withIntermediateDirectories: true)
        let template = templates.appendingPathComponent("firewall-web.rules.mustache").path
        try "-A {{firewallChain}} -p tcp --dport 80 -j ACCEPT\n{{#webHosts}}\n".write(toFile: template, atomically: true, encoding: .utf8)
        let out = directory.appendingPathComponent("out").path
        let result = try CommandLineRun.run(["render", "-i", Self.example, "--out", out, "--templates", templates.path])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("\(template):3: template does not parse: a section is never closed (missing {{/name}})\n"))
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func templateOverrideShowsInTheRenderedFiles() throws {
        let directory = try TemplateTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let templates = directory.appendingPathComponent("templates")
        try FileManager.default.createDirectory(at: templates, withIntermediateDirectories: true)
        try "-A {{firewallChain}} -p tcp -m tcp --dport 8080 -j ACCEPT\n"
            .write(to: templates.appendingPathComponent("firewall-web.rules.mustache"), atomically: true, encoding: .utf8)
        let out = directory.appendingPathComponent("out").path
        let result = try CommandLineRun.run(["render", "-i", Self.example, "--out", out, "--templates", templates.path])
        #expect(result.status == 0, "\(result.stderr)")
        let tree = try RenderGoldenTests.readTree(URL(fileURLWithPath: out))
        #expect(tree["web1/firewall.rules"]?.hasSuffix("\n-A CLUSTERCTL -p tcp -m tcp --dport 8080 -j ACCEPT\n") == true)
        #expect(tree["mc1/etc/sysconfig/memcached"]?.contains("OPTIONS=\"-l 10.180.0.5 -U 0\"\n") == true)
    }
}
