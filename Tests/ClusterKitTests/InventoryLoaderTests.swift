import Foundation
import Testing
@testable import ClusterKit

@Suite struct InventoryLoaderTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func exampleInventoryLoadsWithDefaultsAndOverridesMerged() throws {
        let inventory = try InventoryLoader.load(path: Self.repositoryRoot.appendingPathComponent("inventory.example.json").path)
        #expect(inventory.hosts.map(\.name) == ["mc1", "monitor1", "web1", "web2"])
        #expect(inventory.memcached == MemcachedSettings(port: 11211, maxConnections: 1024,
                                                         cacheSizeMB: 64, extraOptions: ["-U", "0"]))
        #expect(inventory.php.sessionHandler == .memcache)
        #expect(inventory.firewall.allowFrom == ["10.180.1.0/24"])
        var top = SSHSettings(user: "root", port: 22, identityFile: "~/.ssh/id_ed25519", knownHostsFile: "~/.ssh/known_hosts")
        top.explicitKeys = ["user", "port", "identityFile", "knownHostsFile"]
        #expect(inventory.ssh == top)
        let web2 = try #require(inventory.host(named: "web2"))
        var web2SSH = SSHSettings(user: "root", port: 2222, identityFile: "~/.ssh/id_ed25519", knownHostsFile: "~/.ssh/known_hosts")
        web2SSH.explicitKeys = top.explicitKeys   // what the top level wrote is written for every host
        #expect(web2.ssh == web2SSH)
        #expect(web2.roles == [.web])
        #expect(web2.privateAddress == "10.180.0.12")
        let monitor = try #require(inventory.host(named: "monitor1"))
        #expect(monitor.roles.isEmpty)
        #expect(monitor.ssh.user == "ops")
        #expect(monitor.ssh.port == 22)
        #expect(inventory.memcacheHosts.map(\.name) == ["mc1"])
        #expect(inventory.webHosts.map(\.name) == ["web1", "web2"])
    }

    @Test func minimalInventoryGetsDefaultsAndPrivateAddressFromAddress() throws {
        let inventory = try InventoryLoader.load(text: """
            { "hosts": { "web1": { "roles": ["web", "memcache"], "address": "198.51.100.7" },
                         "gw": { "roles": [], "address": "gw.example.net", "privateAddress": "10.0.0.1" },
                         "v6": { "roles": [], "address": "2001:db8::1", "privateAddress": "10.0.0.2" } } }
            """, file: "min.json")
        #expect(inventory.ssh == SSHSettings())
        #expect(inventory.memcached == MemcachedSettings())
        #expect(inventory.php == PHPSettings())
        let web1 = try #require(inventory.host(named: "web1"))
        #expect(web1.privateAddress == "198.51.100.7")
        #expect(web1.roles == [.memcache, .web])
        #expect(inventory.host(named: "gw")?.address == "gw.example.net")
        #expect(inventory.host(named: "v6")?.address == "2001:db8::1")
    }

    @Test func sameAddressOnAnotherSSHPortIsAllowed() throws {
        let inventory = try InventoryLoader.load(text: """
            { "hosts": { "mc1": { "roles": ["memcache"], "address": "198.51.100.7", "privateAddress": "10.0.0.5" },
                         "web1": { "roles": ["web"], "address": "198.51.100.7", "privateAddress": "10.0.0.11",
                                   "ssh": { "port": 2201 } } } }
            """, file: "nat.json")
        #expect(inventory.hosts.count == 2)
    }
}

@Suite struct PositionedJSONParserTests {
    @Test func recordsLineAndColumnOfKeysAndValues() throws {
        let root = try PositionedJSONParser.parse(Array("{\n  \"a\": [1, \"é\", {\"b\": null}],\n\t\"c\": true\n}".utf8))
        guard case .object(let members) = root.value else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["a", "c"])
        #expect(members[0].keyPosition == SourcePosition(line: 2, column: 3))
        #expect(members[0].value.position == SourcePosition(line: 2, column: 8))
        guard case .array(let items) = members[0].value.value else { Issue.record("not an array"); return }
        #expect(items.map(\.position.column) == [9, 12, 17])
        #expect(items[1].value == .string("é"))
        #expect(members[1].keyPosition == SourcePosition(line: 3, column: 2))
        #expect(members[1].value.value == .bool(true))
    }

    @Test func columnsCountCharactersNotBytes() throws {
        let root = try PositionedJSONParser.parse(Array("[\"ééé\", 5]".utf8))
        guard case .array(let items) = root.value else { Issue.record("not an array"); return }
        #expect(items[1].position == SourcePosition(line: 1, column: 9))
        #expect(items[1].value == .number("5"))
    }

    @Test func skipsAByteOrderMark() throws {
        let root = try PositionedJSONParser.parse([0xEF, 0xBB, 0xBF] + Array("[true]".utf8))
        #expect(root.value == .array([JSONNode(value: .bool(true), position: SourcePosition(line: 1, column: 2))]))
    }

    @Test func decodesEscapes() throws {
        let root = try PositionedJSONParser.parse(Array(#"["a\"b\\c\/\n\u00e9\ud83d\ude00"]"#.utf8))
        #expect(root.value == .array([JSONNode(value: .string("a\"b\\c/\né😀"), position: SourcePosition(line: 1, column: 2))]))
    }

    @Test(arguments: [
        ("{\"a\": 01}", "numbers must not have leading zeros", 1, 7),
        ("{\"a\": 1,}", "trailing comma before '}'", 1, 9),
        ("[1, 2,]", "trailing comma before ']'", 1, 7),
        ("{'a': 1}", "unexpected ''', expected a key in double quotes", 1, 2),
        ("{\"a\": \"x\ny\"}", "control character (e.g. a raw newline) inside a string; write it as an escape", 1, 9),
        ("{\"a\": 1} x", "unexpected 'x' after the end of the document", 1, 10),
        ("{\"a\": tru}", "invalid literal, expected 'true'", 1, 7),
        ("{\"a\": \"\\x\"}", "invalid escape sequence in string", 1, 8),
        ("{\n\"a\": 1,\n\"a\": 2}", "duplicate key \"a\"", 3, 1),
        ("", "unexpected end of file, expected a value", 1, 1),
        ("{\"a\": \"open", "unterminated string", 1, 7),
    ])
    func rejectsInvalidJSON(text: String, message: String, line: Int, column: Int) {
        do {
            _ = try PositionedJSONParser.parse(Array(text.utf8))
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.message == message)
            #expect(error.position == SourcePosition(line: line, column: column))
        }
    }

    @Test func rejectsDeepNesting() {
        let text = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONSyntaxError.self) { try PositionedJSONParser.parse(Array(text.utf8)) }
    }
}
