import ArgumentParser
import ClusterKit

/// `clusterctl init --memcache ADDR… --web ADDR…`: writes a starter inventory that validates.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a starter inventory for the given memcache and web hosts.",
        discussion: """
            Hosts are named mc1, mc2, ... and web1, web2, ... in the order given; an address given to both \
            --memcache and --web is one host with both roles. Each ADDR is an IP address or DNS name where SSH \
            connects, optionally followed by =PRIVATE_IPV4, the address the other hosts reach it on (required \
            when ADDR is not IPv4; otherwise it defaults to ADDR). The main settings are written out with their defaults; \
            the README's "Starting an inventory" explains them. An existing file is never overwritten.
            """
    )

    @Option(parsing: .upToNextOption, help: ArgumentHelp("Memcache hosts.", valueName: "addr"))
    var memcache: [String] = []

    @Option(parsing: .upToNextOption, help: ArgumentHelp("Web hosts (httpd + PHP).", valueName: "addr"))
    var web: [String] = []

    @Option(help: ArgumentHelp("SSH login on every host.", valueName: "user"))
    var user: String = SSHSettings().user

    @Option(name: .customLong("out"), help: ArgumentHelp("The inventory file to create.", valueName: "file"),
            completion: .file(extensions: ["json"]))
    var outputFile: String = InventoryOption.defaultFile

    /// Bad addresses are usage errors: ArgumentParser prints them with init's usage line and exits 64.
    /// (Thrown from validate() rather than run() so that the usage shown is init's, not clusterctl's.)
    func validate() throws {
        _ = try starterInventory()
    }

    private func starterInventory() throws -> StarterInventory {
        do {
            return try StarterInventory(memcache: memcache, web: web, user: user)
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        let starter = try starterInventory()
        do {
            try starter.write(to: outputFile)
        } catch {
            Console.error("init: \(error.description)")
            throw ExitCode.failure
        }
        let names = { (role: Role) in starter.hosts.filter { $0.roles.contains(role) }.map(\.name).joined(separator: ", ") }
        let inventoryArgument = outputFile == InventoryOption.defaultFile ? "" : " -i \(outputFile)"
        print("""
            Wrote \(outputFile): memcache \(names(.memcache)); web \(names(.web)); SSH as \(user) on port 22.
            Next: review it (README, "Starting an inventory"), then run clusterctl graph\(inventoryArgument) --out cluster.svg \
            and clusterctl plan\(inventoryArgument).
            """)
    }
}
