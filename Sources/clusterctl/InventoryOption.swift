import ArgumentParser
import ClusterKit
import Foundation

/// `-i/--inventory FILE`, shared by every subcommand that reads an inventory.
struct InventoryOption: ParsableArguments {
    /// Where every command looks without -i, and where `init` writes.
    static let defaultFile = "inventory.json"

    @Option(name: [.short, .customLong("inventory")], help: ArgumentHelp("The inventory JSON file.", valueName: "file"),
            completion: .file(extensions: ["json"]))
    var inventory: String = Self.defaultFile

    /// Loads and validates the inventory; on problems prints them all to stderr and exits 1.
    func load() throws -> Inventory {
        do {
            return try InventoryLoader.load(path: inventory)
        } catch {
            Console.error(error.description)
            let count = error.problems.count
            let next = FileManager.default.fileExists(atPath: inventory)
                ? "fix \(count == 1 ? "it" : "them") and check again with: clusterctl validate -i \(inventory)"
                : "pass the inventory with -i FILE, or write a first one with: clusterctl init --memcache ADDR... --web ADDR..."
            Console.error("\(inventory): \(count) problem\(count == 1 ? "" : "s"); nothing was done. Next: \(next)")
            throw ExitCode.failure
        }
    }
}
