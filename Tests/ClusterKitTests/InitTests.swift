import Foundation
import Testing
@testable import ClusterKit

/// `clusterctl init`: the starter inventory always loads through InventoryLoader, existing files are never
/// touched, and bad addresses are usage errors that say what to type instead.
@Suite struct InitTests {
    @Test func starterInventoryLoadsWithEveryRoleAndAddressKind() throws {
        let starter = try StarterInventory(
            memcache: ["10.0.0.5", "10.0.0.6"],
            web: ["10.0.0.11", "10.0.0.6", "web3.example.com=10.0.0.13", "2001:db8::1=10.0.0.14"], user: "deploy")
        let inventory = try InventoryLoader.load(text: starter.json, file: "starter.json")
        let hosts = inventory.hosts.map { "\($0.name) \($0.sortedRoles.map(\.rawValue)) \($0.address) \($0.privateAddress)" }
        #expect(hosts == [
            "mc1 [\"memcache\"] 10.0.0.5 10.0.0.5",
            "mc2 [\"memcache\", \"web\"] 10.0.0.6 10.0.0.6",
            "web1 [\"web\"] 10.0.0.11 10.0.0.11",
            "web2 [\"web\"] web3.example.com 10.0.0.13",
            "web3 [\"web\"] 2001:db8::1 10.0.0.14",
        ])
        #expect(inventory.hosts.allSatisfy { $0.ssh.user == "deploy" && $0.ssh.port == 22 && $0.ssh.become == nil })
        // Every default is written out, and it is the model's own default.
        #expect(inventory.memcached == MemcachedSettings())
        #expect(inventory.php == PHPSettings())
        #expect(inventory.firewall == FirewallSettings())
        for key in ["\"port\": 22", "\"port\": 11211", "\"maxConnections\": 1024", "\"cacheSizeMB\": 64",
                    "\"extraOptions\": []", "\"sessionHandler\": \"memcache\"", "\"sessionRedundancy\": 1", "\"allowFrom\": []"] {
            #expect(starter.json.contains(key), "\(key) not written out")
        }
    }

    /// The README explains init's choices next to what init writes: keep that text true.
    @Test func readmeShowsWhatInitWrites() throws {
        let readme = try String(contentsOf: InventoryLoaderTests.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains("clusterctl init --memcache 10.180.0.5 --web 10.180.0.11 10.180.0.12\n"))
        let json = try StarterInventory(memcache: ["10.180.0.5"], web: ["10.180.0.11", "10.180.0.12"], user: "root").json
        #expect(readme.contains("```json\n" + json + "```\n"), "README's init example differs from:\n\(json)")
    }

    @Test func initWritesAnInventoryThatValidatesAndNeverOverwrites() throws {
        let directory = try TemplateTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("cluster.json").path
        let arguments = ["init", "--memcache", "10.0.0.5", "--web", "10.0.0.11", "10.0.0.12", "--user", "ops", "--out", file]

        let result = try CommandLineRun.run(arguments)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == """
            Wrote \(file): memcache mc1; web web1, web2; SSH as ops on port 22.
            Next: review it (README, "Starting an inventory"), then run clusterctl graph -i \(file) --out cluster.svg \
            and clusterctl plan -i \(file).

            """)
        let inventory = try InventoryLoader.load(path: file)
        #expect(inventory.hosts.map(\.name) == ["mc1", "web1", "web2"])
        let validate = try CommandLineRun.run(["validate", "-i", file])
        #expect(validate.status == 0, "\(validate.stderr)")

        let written = try String(contentsOfFile: file, encoding: .utf8)
        let again = try CommandLineRun.run(["init", "--memcache", "10.0.0.9", "--web", "10.0.0.10", "--out", file])
        #expect(again.status == 1)
        #expect(again.stderr == "init: \(file) already exists; init does not overwrite it. Choose another file with "
                + "--out FILE, or move \(file) away and run init again.\n")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == written)

        let missingDirectory = directory.appendingPathComponent("no/such/dir.json").path
        let unwritable = try CommandLineRun.run(["init", "--memcache", "10.0.0.9", "--web", "10.0.0.10", "--out", missingDirectory])
        #expect(unwritable.status == 1)
        #expect(unwritable.stderr == "init: cannot create \(missingDirectory): No such file or directory. Check that its "
                + "directory exists and is writable, or choose another file with --out FILE.\n")
    }

    /// Each bad argument: exit 64 (a usage error), nothing written, and the message's first line says what is
    /// wrong and what to write instead.
    @Test(arguments: [
        (["--memcache", "10.0.0.5;reboot", "--web", "10.0.0.11"],
         "--memcache \"10.0.0.5;reboot\" is not an IP address or host name. Give an IPv4 or IPv6 address or a DNS name, optionally =PRIVATE_IPV4, e.g. --memcache 203.0.113.21=10.0.0.11."),
        (["--memcache", "10.0.0.5", "--web", "10.0.0.256"],
         "--web \"10.0.0.256\" is not an IP address or host name (invalid IPv4 address). Give an IPv4 or IPv6 address or a DNS name, optionally =PRIVATE_IPV4, e.g. --web 203.0.113.21=10.0.0.11."),
        (["--memcache", "10.0.0.5", "--web", "web1.example.com"],
         "--web web1.example.com: configs and firewall rules need the host's private IPv4 address; write it after =, e.g. --web web1.example.com=10.0.0.11."),
        (["--memcache", "10.0.0.5", "--web", "web1.example.com=fe80::1"],
         "--web \"web1.example.com=fe80::1\": private address \"fe80::1\" is not an IPv4 address (dotted quad such as 10.180.0.5). It is where the other hosts reach this one; give it as --web ADDRESS=PRIVATE_IPV4."),
        (["--memcache", "127.0.0.1", "--web", "10.0.0.11"],
         "--memcache \"127.0.0.1\": private address \"127.0.0.1\" is not an address other hosts can reach (loopback). It is where the other hosts reach this one; give it as --memcache ADDRESS=PRIVATE_IPV4."),
        (["--memcache", "10.0.0.5", "--web", "10.0.0.11", "10.0.0.11"],
         "--web 10.0.0.11 is given twice; list each host once."),
        (["--memcache", "10.0.0.5", "--web", "203.0.113.9=10.0.0.5"],
         "--web 203.0.113.9=10.0.0.5: private address 10.0.0.5 is already mc1's (10.0.0.5); every host needs its own."),
        (["--web", "10.0.0.11"],
         "--memcache needs at least one address: a cluster has at least one memcache host and one web host, e.g. --memcache 10.0.0.5 --web 10.0.0.11 10.0.0.12."),
        (["--memcache", "10.0.0.5", "--web", "10.0.0.11", "--user", "Root"],
         "--user: \"Root\" is not a valid user name (must match [a-z_][a-z0-9_-]*, at most 32 characters). Give the SSH login, e.g. --user root."),
    ])
    func badArgumentsAreUsageErrorsThatSayWhatToWrite(_ arguments: [String], _ message: String) throws {
        let directory = try TemplateTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("inventory.json").path
        let result = try CommandLineRun.run(["init"] + arguments + ["--out", file])
        #expect(result.status == 64)
        #expect(result.stderr.split(separator: "\n").first.map(String.init) == "Error: \(message)")
        #expect(result.stderr.contains("Usage: clusterctl init "))
        #expect(!FileManager.default.fileExists(atPath: file))
    }
}
