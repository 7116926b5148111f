import Testing
@testable import ClusterKit

/// One bad inventory and the single problem it must produce.
struct BadInventory: CustomTestStringConvertible, Sendable {
    var name: String
    var json: String
    var path: String
    var message: String
    var testDescription: String { name }
}

/// A valid inventory with one part replaced: `top` adds top-level members, `hosts` replaces the hosts object.
func inventoryJSON(top: String = "", hosts: String = InventoryFixtures.twoHosts) -> String {
    "{ \(top)\(top.isEmpty ? "" : ", ")\"hosts\": \(hosts) }"
}

enum InventoryFixtures {
    static let mc1 = #""mc1": { "roles": ["memcache"], "address": "203.0.113.10", "privateAddress": "10.180.0.5" }"#
    static let web1 = #""web1": { "roles": ["web"], "address": "203.0.113.21", "privateAddress": "10.180.0.11" }"#
    static let twoHosts = "{ \(mc1), \(web1) }"
    static func withWeb1(_ web1Body: String) -> String { "{ \(mc1), \"web1\": \(web1Body) }" }
}

@Suite struct InventoryValidationTests {
    static let cases: [BadInventory] = [
        .init(name: "unknown top-level os", json: inventoryJSON(top: #""os": "debain12""#),
              path: "os", message: #"unknown OS family "debain12"; did you mean "debian12"? supported: el5, el6, el7, el8, el9, debian11, debian12, ubuntu22.04, ubuntu24.04"#),
        .init(name: "unknown host os", json: inventoryJSON(hosts: InventoryFixtures.withWeb1(
                #"{ "roles": ["web"], "address": "203.0.113.21", "os": "gentoo" }"#)),
              path: "hosts.web1.os", message: #"unknown OS family "gentoo"; supported: el5, el6, el7, el8, el9, debian11, debian12, ubuntu22.04, ubuntu24.04"#),
        .init(name: "memcached port zero", json: inventoryJSON(top: #""memcached": { "port": 0 }"#),
              path: "memcached.port", message: "port 0 is outside 1-65535"),
        .init(name: "memcached port too large", json: inventoryJSON(top: #""memcached": { "port": 70000 }"#),
              path: "memcached.port", message: "port 70000 is outside 1-65535"),
        .init(name: "ssh port as string", json: inventoryJSON(top: #""ssh": { "port": "22" }"#),
              path: "ssh.port", message: "must be an integer, found a string"),
        .init(name: "ssh port as boolean", json: inventoryJSON(top: #""ssh": { "port": true }"#),
              path: "ssh.port", message: "must be an integer, found a boolean"),
        .init(name: "fractional port", json: inventoryJSON(top: #""memcached": { "port": 11211.5 }"#),
              path: "memcached.port", message: "must be an integer, found 11211.5"),
        .init(name: "zero cache size", json: inventoryJSON(top: #""memcached": { "cacheSizeMB": 0 }"#),
              path: "memcached.cacheSizeMB", message: "must be positive, found 0"),
        .init(name: "negative max connections", json: inventoryJSON(top: #""memcached": { "maxConnections": -5 }"#),
              path: "memcached.maxConnections", message: "must be positive, found -5"),
        .init(name: "capitalised memcached user", json: inventoryJSON(top: #""memcached": { "user": "Memcached" }"#),
              path: "memcached.user",
              message: #""Memcached" is not a valid user name (must match [a-z_][a-z0-9_-]*, at most 32 characters)"#),
        .init(name: "shell in ssh user", json: inventoryJSON(top: #""ssh": { "user": "root;reboot" }"#),
              path: "ssh.user",
              message: #""root;reboot" is not a valid user name (must match [a-z_][a-z0-9_-]*, at most 32 characters)"#),
        .init(name: "relative identity file", json: inventoryJSON(top: #""ssh": { "identityFile": "id_ed25519" }"#),
              path: "ssh.identityFile", message: #""id_ed25519" must be an absolute path or start with ~/"#),
        .init(name: "quote in known_hosts path", json: inventoryJSON(top: #""ssh": { "knownHostsFile": "/tmp/k\"h" }"#),
              path: "ssh.knownHostsFile", message: #""/tmp/k\"h" contains '"', which is not allowed in a path"#),
        .init(name: "misspelt ssh key", json: inventoryJSON(top: #""ssh": { "identity_file": "~/.ssh/id" }"#),
              path: "ssh.identity_file", message: #"unknown key "identity_file"; did you mean "identityFile"?"#),
        .init(name: "unknown top-level key", json: inventoryJSON(top: #""logging": {}"#),
              path: "logging", message: #"unknown key "logging"; expected one of: os, ssh, memcached, php, firewall, hosts"#),
        .init(name: "unknown session handler", json: inventoryJSON(top: #""php": { "sessionHandler": "redis" }"#),
              path: "php.sessionHandler", message: #"unknown session handler "redis" (expected "memcache" or "memcached")"#),
        .init(name: "misspelt session handler", json: inventoryJSON(top: #""php": { "sessionHandler": "memcahced" }"#),
              path: "php.sessionHandler",
              message: #"unknown session handler "memcahced" (expected "memcache" or "memcached"); did you mean "memcached"?"#),
        .init(name: "option with a space", json: inventoryJSON(top: #""memcached": { "extraOptions": ["-U 0"] }"#),
              path: "memcached.extraOptions[0]",
              message: #""-U 0" contains a space; each option must be one word of letters, digits and -_.,:=/+@% (split "-U 0" into "-U", "0")"#),
        .init(name: "command substitution in option", json: inventoryJSON(top: #""memcached": { "extraOptions": ["-v", "$(reboot)"] }"#),
              path: "memcached.extraOptions[1]",
              message: #""$(reboot)" contains '$'; each option must be one word of letters, digits and -_.,:=/+@% (split "-U 0" into "-U", "0")"#),
        .init(name: "option clusterctl manages", json: inventoryJSON(top: #""memcached": { "extraOptions": ["-m", "128"] }"#),
              path: "memcached.extraOptions[0]", message: #""-m" is set by clusterctl from memcached.cacheSizeMB; set it there instead"#),
        .init(name: "listen address attached to the option", json: inventoryJSON(top: #""memcached": { "extraOptions": ["-v", "-l0.0.0.0"] }"#),
              path: "memcached.extraOptions[1]", message: #""-l" is set by clusterctl from hosts.<name>.privateAddress; set it there instead"#),
        .init(name: "long option clusterctl manages", json: inventoryJSON(top: #""memcached": { "extraOptions": ["--port=1"] }"#),
              path: "memcached.extraOptions[0]", message: #""--port" is set by clusterctl from memcached.port; set it there instead"#),
        .init(name: "allowFrom with host bits", json: inventoryJSON(top: #""firewall": { "allowFrom": ["10.0.0.1/24"] }"#),
              path: "firewall.allowFrom[0]", message: #""10.0.0.1/24" has host bits set; did you mean "10.0.0.0/24"?"#),
        .init(name: "allowFrom prefix too long", json: inventoryJSON(top: #""firewall": { "allowFrom": ["10.0.0.0/33"] }"#),
              path: "firewall.allowFrom[0]", message: #""10.0.0.0/33" has an invalid prefix length (must be 0-32)"#),
        .init(name: "allowFrom host name", json: inventoryJSON(top: #""firewall": { "allowFrom": ["admin.example.com"] }"#),
              path: "firewall.allowFrom[0]",
              message: #""admin.example.com" is not an IPv4 address or CIDR network (such as 10.180.0.5 or 10.180.0.0/24)"#),
        .init(name: "allowFrom listed twice", json: inventoryJSON(top: #""firewall": { "allowFrom": ["10.1.0.0/16", "10.1.0.0/16"] }"#),
              path: "firewall.allowFrom[1]", message: #""10.1.0.0/16" is listed twice"#),
        .init(name: "host name with underscore",
              json: inventoryJSON(hosts: "{ \(InventoryFixtures.mc1), \"web_1\": { \"roles\": [\"web\"], \"address\": \"203.0.113.21\" } }"),
              path: #"hosts["web_1"]"#,
              message: #"host name "web_1" is not a plain label (lowercase letters, digits and '-', at most 63 characters, not starting or ending with '-')"#),
        .init(name: "host name with a dot",
              json: inventoryJSON(hosts: "{ \(InventoryFixtures.mc1), \"web1.example\": { \"roles\": [\"web\"], \"address\": \"203.0.113.21\" } }"),
              path: #"hosts["web1.example"]"#,
              message: #"host name "web1.example" is not a plain label (lowercase letters, digits and '-', at most 63 characters, not starting or ending with '-')"#),
        .init(name: "shell in address",
              json: inventoryJSON(hosts: InventoryFixtures.withWeb1(#"{ "roles": ["web"], "address": "203.0.113.21;reboot", "privateAddress": "10.180.0.11" }"#)),
              path: "hosts.web1.address", message: #""203.0.113.21;reboot" is not an IP address or host name"#),
        .init(name: "newline in address",
              json: inventoryJSON(hosts: InventoryFixtures.withWeb1(#"{ "roles": ["web"], "address": "web1\nHost x", "privateAddress": "10.180.0.11" }"#)),
              path: "hosts.web1.address", message: #""web1\nHost x" is not an IP address or host name"#),
        .init(name: "octet out of range",
              json: inventoryJSON(hosts: InventoryFixtures.withWeb1(#"{ "roles": ["web"], "address": "203.0.113.256" }"#)),
              path: "hosts.web1.address", message: #""203.0.113.256" is not an IP address or host name (invalid IPv4 address)"#),
        .init(name: "private address with trailing space",
              json: inventoryJSON(hosts: InventoryFixtures.withWeb1(#"{ "roles": ["web"], "address": "203.0.113.21", "privateAddress": "10.180.0.11 " }"#)),
              path: "hosts.web1.privateAddress", message: #""10.180.0.11 " is not an IPv4 address (dotted quad such as 10.180.0.5)"#),
        .init(name: "IPv6 private address",
              json: inventoryJSON(hosts: InventoryFixtures.withWeb1(#"{ "roles": ["web"], "address": "203.0.113.21", "privateAddress": "fd00::11" }"#)),
              path: "hosts.web1.privateAddress", message: #""fd00::11" is not an IPv4 address (dotted quad such as 10.180.0.5)"#),
        .init(name: "host name address without private address",
              json: inventoryJSON(hosts: InventoryFixtures.withWeb1(#"{ "roles": ["web"], "address": "web1.example.com" }"#)),
              path: "hosts.web1.privateAddress", message: #"missing; required because address "web1.example.com" is not an IPv4 address"#),
        .init(name: "address missing",
              json: inventoryJSON(hosts: InventoryFixtures.withWeb1(#"{ "roles": ["web"], "privateAddress": "10.180.0.11" }"#)),
              path: "hosts.web1.address", message: #"missing required key "address""#),
        .init(name: "roles missing",
              json: inventoryJSON(hosts: "{ \(InventoryFixtures.mc1), \(InventoryFixtures.web1), \"web2\": { \"address\": \"203.0.113.22\" } }"),
              path: "hosts.web2.roles", message: #"missing required key "roles" (use [] for a host with no role)"#),
        .init(name: "misspelt role",
              json: inventoryJSON(hosts: "{ \(InventoryFixtures.mc1), \(InventoryFixtures.web1), \"web2\": { \"roles\": [\"wbe\"], \"address\": \"203.0.113.22\" } }"),
              path: "hosts.web2.roles[0]", message: #"unknown role "wbe" (expected "memcache" or "web"); did you mean "web"?"#),
        .init(name: "role listed twice",
              json: inventoryJSON(hosts: InventoryFixtures.withWeb1(#"{ "roles": ["web", "web"], "address": "203.0.113.21" }"#)),
              path: "hosts.web1.roles[1]", message: #""web" is listed twice"#),
        .init(name: "misspelt host key",
              json: inventoryJSON(hosts: InventoryFixtures.withWeb1(#"{ "roles": ["web"], "address": "203.0.113.21", "privateAdress": "10.180.0.11" }"#)),
              path: "hosts.web1.privateAdress", message: #"unknown key "privateAdress"; did you mean "privateAddress"?"#),
        .init(name: "host ssh port zero",
              json: inventoryJSON(hosts: InventoryFixtures.withWeb1(#"{ "roles": ["web"], "address": "203.0.113.21", "ssh": { "port": 0 } }"#)),
              path: "hosts.web1.ssh.port", message: "port 0 is outside 1-65535"),
        .init(name: "duplicate private address",
              json: inventoryJSON(hosts: InventoryFixtures.withWeb1(#"{ "roles": ["web"], "address": "203.0.113.21", "privateAddress": "10.180.0.5" }"#)),
              path: "hosts.web1.privateAddress", message: #"private address "10.180.0.5" is already used by host mc1"#),
        .init(name: "duplicate SSH endpoint",
              json: inventoryJSON(hosts: InventoryFixtures.withWeb1(#"{ "roles": ["web"], "address": "203.0.113.10", "privateAddress": "10.180.0.11" }"#)),
              path: "hosts.web1.address", message: #"address "203.0.113.10" with SSH port 22 is already used by host mc1"#),
        .init(name: "loopback private address",
              json: inventoryJSON(hosts: InventoryFixtures.withWeb1(#"{ "roles": ["web"], "address": "203.0.113.21", "privateAddress": "127.0.0.1" }"#)),
              path: "hosts.web1.privateAddress", message: #""127.0.0.1" is not an address other hosts can reach (loopback)"#),
        .init(name: "unspecified address used as private address",
              json: inventoryJSON(hosts: InventoryFixtures.withWeb1(#"{ "roles": ["web"], "address": "0.0.0.0" }"#)),
              path: "hosts.web1.address",
              message: #""0.0.0.0" is not an address other hosts can reach (unspecified; set privateAddress)"#),
        .init(name: "memcached on the HTTP port", json: inventoryJSON(top: #""memcached": { "port": 80 }"#),
              path: "memcached.port", message: "port 80 is opened to everyone on web hosts; memcached needs a port of its own"),
        .init(name: "memcached on a memcache host's SSH port",
              json: inventoryJSON(top: #""ssh": { "port": 2222 }, "memcached": { "port": 2222 }"#),
              path: "memcached.port",
              message: "port 2222 is also the SSH port of memcache host mc1; the firewall would drop SSH from everyone but the web hosts"),
        .init(name: "no memcache host", json: inventoryJSON(hosts: "{ \(InventoryFixtures.web1) }"),
              path: "hosts", message: #"no host has the "memcache" role; at least one is required"#),
        .init(name: "no web host", json: inventoryJSON(hosts: "{ \(InventoryFixtures.mc1) }"),
              path: "hosts", message: #"no host has the "web" role; at least one is required"#),
        .init(name: "hosts is an array", json: #"{ "hosts": [] }"#,
              path: "hosts", message: "must be an object mapping host names to hosts, found an array"),
        .init(name: "hosts missing", json: #"{ "php": { "sessionHandler": "memcache" } }"#,
              path: "hosts", message: #"missing required key "hosts""#),
        .init(name: "document is an array", json: "[]", path: "(root)", message: "must be an object, found an array"),
        .init(name: "trailing comma", json: #"{ "hosts": {}, }"#, path: "(root)", message: "invalid JSON: trailing comma before '}'"),
        .init(name: "duplicate JSON key", json: #"{ "memcached": { "port": 1, "port": 2 }, "hosts": {} }"#,
              path: "(root)", message: #"invalid JSON: duplicate key "port""#),
        .init(name: "comment in JSON", json: "{ // hosts\n }", path: "(root)", message: "invalid JSON: unexpected '/', expected a key in double quotes"),
    ]

    @Test(arguments: cases)
    func rejects(_ bad: BadInventory) {
        #expect(throws: InventoryError.self) { try InventoryLoader.load(text: bad.json, file: "bad.json") }
        do {
            _ = try InventoryLoader.load(text: bad.json, file: "bad.json")
        } catch {
            #expect(error.file == "bad.json")
            #expect(error.problems.map(\.path) == [bad.path], "\(error)")
            #expect(error.problems.first?.message == bad.message, "\(error)")
            #expect(error.problems.first?.position != nil)
        }
    }

    @Test func tableHasAtLeast25DistinctInventories() {
        #expect(Set(Self.cases.map(\.json)).count >= 25)
        #expect(Set(Self.cases.map(\.name)).count == Self.cases.count)
    }

    /// Every problem in one pass, in document order, each at the line:column of the offending value or key.
    @Test func reportsEveryProblemWithPositions() throws {
        let text = """
            {
              "memcached": { "port": 0, "cacheSizeMB": -1 },
              "php": { "sessionHandler": "redis" },
              "hosts": {
                "mc1": { "roles": ["memcache"], "address": "203.0.113.10" },
                "web1": { "roles": ["web"], "address": "203.0.113.21", "privateAdress": "10.180.0.11" },
                "web2": { "roles": ["web"], "address": "203.0.113.22", "privateAddress": "10.180.0.5 " }
              }
            }
            """
        let error = try #require(throws: InventoryError.self) { try InventoryLoader.load(text: text, file: "inv.json") }
        #expect(error.problems.map(\.path) == [
            "memcached.port", "memcached.cacheSizeMB", "php.sessionHandler",
            "hosts.web1.privateAdress", "hosts.web2.privateAddress",
        ])
        #expect(error.problems.map { $0.position?.description } == ["2:26", "2:44", "3:30", "6:60", "7:78"])
        #expect(error.description.split(separator: "\n").first
                == "inv.json:2:26: memcached.port: port 0 is outside 1-65535")
    }

    @Test func missingFileNamesTheFile() {
        let error = #expect(throws: InventoryError.self) {
            try InventoryLoader.load(path: "/nonexistent/clusterctl/inventory.json")
        }
        #expect(error?.description == "/nonexistent/clusterctl/inventory.json: (root): no such file")
    }
}
