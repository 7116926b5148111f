import ArgumentParser
import ClusterKit

@main
struct Clusterctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clusterctl",
        abstract: "Provision a PHP web cluster whose sessions live in memcached.",
        version: Version.text,
        // One file per subcommand.
        subcommands: [InitCommand.self, ValidateCommand.self, RenderCommand.self, GraphCommand.self,
                      PlanCommand.self, ApplyCommand.self, VerifyCommand.self]
    )
}
