import ArgumentParser
import ClusterKit

/// `-i/--inventory FILE`, shared by every subcommand that reads an inventory.
struct InventoryOption: ParsableArguments {
    @Option(name: [.short, .customLong("inventory")], help: "The inventory JSON file.")
    var inventory: String = "inventory.json"

    /// Loads and validates the inventory; on problems prints them all to stderr and exits 1.
    func load() throws -> Inventory {
        do {
            return try InventoryLoader.load(path: inventory)
        } catch {
            Console.error(error.description)
            let count = error.problems.count
            Console.error("\(inventory): \(count) problem\(count == 1 ? "" : "s"); nothing was done.")
            throw ExitCode.failure
        }
    }
}
