import ArgumentParser
import ClusterKit

/// `clusterctl validate -i FILE`: the inventory checks alone. No template is rendered, no host contacted.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check an inventory file and report every problem in it."
    )

    @OptionGroup var inventoryOption: InventoryOption

    func run() throws {
        let inventory = try inventoryOption.load()
        let memcache = inventory.memcacheHosts.count, web = inventory.webHosts.count
        print("\(inventoryOption.inventory): OK: \(inventory.hosts.count) hosts (\(memcache) memcache, \(web) web), "
              + "session handler \(inventory.php.sessionHandler.rawValue)")
    }
}
