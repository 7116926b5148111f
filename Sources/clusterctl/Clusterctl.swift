import ArgumentParser
import ClusterKit

@main
struct Clusterctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clusterctl",
        abstract: "Provision a PHP web cluster whose sessions live in memcached.",
        // Shown by --help and as the man page's description; the README's exit code table has the details.
        discussion: """
            Typical use: init writes an inventory; validate and graph check it offline; plan shows what would \
            change on the hosts; apply changes them; verify proves the cluster shares sessions; unlock removes \
            a stuck run lock. \
            Exit status: 0 success; 1 failure (invalid inventory or template, a host or check failed, a file \
            could not be written, apply declined, a host locked by another apply); 2 plan --detailed-exitcode found \
            changes; 64 invalid arguments; 130 apply interrupted (Ctrl-C, SIGTERM).
            """,
        version: Version.text,
        // One file per subcommand.
        subcommands: [InitCommand.self, ValidateCommand.self, RenderCommand.self, GraphCommand.self,
                      PlanCommand.self, ApplyCommand.self, VerifyCommand.self, UnlockCommand.self]
    )
}
