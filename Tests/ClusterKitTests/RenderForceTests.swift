import Foundation
import Testing
@testable import ClusterKit

/// `render --force` removes what an earlier render wrote for a host that left the inventory, and nothing
/// the user put in the directory (issue 14).
@Suite struct RenderForceTests {
    /// The example inventory without some hosts, written next to the output.
    static func inventory(without hosts: [String], in directory: URL) throws -> String {
        let example = try Data(contentsOf: URL(fileURLWithPath: RenderCommandTests.example))
        var root = try JSONSerialization.jsonObject(with: example) as! [String: Any]
        var all = root["hosts"] as! [String: Any]
        for host in hosts { all[host] = nil }
        root["hosts"] = all
        let file = directory.appendingPathComponent("inventory-\(hosts.joined(separator: "-")).json").path
        try JSONSerialization.data(withJSONObject: root).write(to: URL(fileURLWithPath: file))
        return file
    }

    @Test func forceRemovesTheFilesOfDepartedHostsAndKeepsTheUsers() throws {
        let directory = try TemplateTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out")
        let manager = FileManager.default
        func exists(_ path: String) -> Bool { manager.fileExists(atPath: out.appendingPathComponent(path).path) }

        #expect(try CommandLineRun.run(["render", "-i", RenderCommandTests.example, "--out", out.path]).status == 0)
        let record = try String(contentsOf: out.appendingPathComponent(RenderDirectory.recordFileName), encoding: .utf8)
        #expect(record.split(separator: "\n").dropFirst() == [
            "mc1/etc/sysconfig/memcached", "mc1/firewall.rules", "monitor1/firewall.rules",
            "web1/php-session.ini", "web1/firewall.rules", "web2/php-session.ini", "web2/firewall.rules",
        ])
        // The user's own files: beside the hosts, inside a host's folder, and a folder clusterctl never made.
        try "mine".write(to: out.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        try "mine".write(to: out.appendingPathComponent("web2/mine.txt"), atomically: true, encoding: .utf8)
        try manager.createDirectory(at: out.appendingPathComponent("old-host"), withIntermediateDirectories: true)
        try "mine".write(to: out.appendingPathComponent("old-host/firewall.rules"), atomically: true, encoding: .utf8)

        // web2 and monitor1 leave the inventory.
        let smaller = try Self.inventory(without: ["web2", "monitor1"], in: directory)
        let result = try CommandLineRun.run(["render", "-i", smaller, "--out", out.path, "--force"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasSuffix("\nRemoved what an earlier render wrote and this one did not: "
                                        + "monitor1/firewall.rules, web2/firewall.rules, web2/php-session.ini\n"))
        #expect(!exists("monitor1"))  // emptied, so gone
        #expect(!exists("web2/firewall.rules") && !exists("web2/php-session.ini"))
        #expect(exists("web2/mine.txt") && exists("notes.txt") && exists("old-host/firewall.rules"))
        #expect(exists("web1/php-session.ini") && exists("mc1/etc/sysconfig/memcached"))
        #expect(try RenderGoldenTests.readTree(out).keys.sorted() == [
            "mc1/etc/sysconfig/memcached", "mc1/firewall.rules", "notes.txt", "old-host/firewall.rules",
            "web1/firewall.rules", "web1/php-session.ini", "web2/mine.txt",
        ])

        // Rendering the same again removes nothing more.
        let again = try CommandLineRun.run(["render", "-i", smaller, "--out", out.path, "--force"])
        #expect(again.status == 0 && !again.stdout.contains("Removed"))
    }

    /// The record is a plain file: a line reaching outside the directory, or through a link the user made,
    /// must not make render delete anything there.
    @Test func recordCannotReachOutsideTheRenderedFiles() throws {
        let directory = try TemplateTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out"), outside = directory.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try "keep".write(to: outside.appendingPathComponent("file"), atomically: true, encoding: .utf8)
        #expect(try CommandLineRun.run(["render", "-i", RenderCommandTests.example, "--out", out.path]).status == 0)
        try FileManager.default.createSymbolicLink(at: out.appendingPathComponent("linked"), withDestinationURL: outside)
        try "# edited\n../outside/file\n\(outside.path)/file\nlinked/file\n"
            .write(to: out.appendingPathComponent(RenderDirectory.recordFileName), atomically: true, encoding: .utf8)
        #expect(try CommandLineRun.run(["render", "-i", RenderCommandTests.example, "--out", out.path, "--force"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: outside.appendingPathComponent("file").path))
    }
}
