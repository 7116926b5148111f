import ArgumentParser
import ClusterKit

@main
struct Clusterctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clusterctl",
        abstract: "Provision a PHP web cluster whose sessions live in memcached.",
        // One file per subcommand; plan, apply and verify join this list.
        subcommands: [ValidateCommand.self, RenderCommand.self, PlanCommand.self, ApplyCommand.self, VerifyCommand.self]
    )
}
