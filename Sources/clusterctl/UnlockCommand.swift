import ArgumentParser
import ClusterKit
import Foundation

/// `clusterctl unlock HOST --id LOCKID`: removes a run lock that is stuck (its holder cannot be proven gone,
/// e.g. a controller on a network that vanished), never another one.
struct UnlockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlock",
        abstract: "Remove a stuck run lock from a host, given its lock id.",
        discussion: """
            apply locks each host it changes (/var/lib/clusterctl/run.lock) and names the holder and the lock id \
            when another apply finds it; plan shows it in the host's header. A lock whose holder's SSH session is \
            gone is taken over by the next apply by itself; unlock is for one that cannot be proven gone. Only a \
            lock with exactly this id is removed (a line is added to the host's /var/log/clusterctl.log); any \
            other lock is left alone and the command exits 1.
            """
    )

    @Argument(help: ArgumentHelp("The host's name in the inventory.", valueName: "host"))
    var host: String

    @Option(help: ArgumentHelp("The id of the lock to remove, as apply or plan printed it.", valueName: "lockid"))
    var id: String

    @OptionGroup var inventoryOption: InventoryOption

    func validate() throws {
        guard !id.isEmpty, id.count <= 64, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw ValidationError("--id must be the lock id apply or plan printed (letters and digits), not '\(id)'")
        }
    }

    func run() async throws {
        let inventory = try inventoryOption.load()
        guard let target = inventory.hosts.first(where: { $0.name == host }) else {
            Console.error("unlock: \(inventoryOption.inventory) has no host \(host) (hosts: "
                          + inventory.hosts.map(\.name).joined(separator: ", ") + "); nothing was changed")
            throw ExitCode.failure
        }
        let result: RunLockRemoval.Result
        do {
            let transport = try await SSHHostTransport.connect(target, becomePassword: BecomePrompt.shared)
            result = try await RunLockRemoval.unlock(id: id, transport: transport, identity: RunIdentity.current())
            await transport.close()
        } catch {
            Console.error("unlock: \(host): \(error)")
            throw ExitCode.failure
        }
        switch result {
        case .removed(let info):
            print("\(host): removed the run lock \(id)" + (info.map { " held by \($0)" } ?? ""))
        case .other(let info):
            Console.error("unlock: \(host): the run lock there is not \(id) but " + (info.map(\.description) ?? "another one")
                          + "; not removed")
            throw ExitCode.failure
        case .none:
            Console.error("unlock: \(host): no run lock; nothing removed")
            throw ExitCode.failure
        }
    }
}
