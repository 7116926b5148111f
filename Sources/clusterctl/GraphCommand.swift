import ArgumentParser
import ClusterKit
import Foundation

extension GraphFormat: ExpressibleByArgument {}

/// `clusterctl graph -i FILE`: the cluster as a picture (hosts by role, allowed and blocked flows). Offline.
struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Draw the cluster: hosts by role and the flows the firewall allows or blocks (no network).",
        discussion: """
            Web hosts reach every memcache host's memcached port, firewall.allowFrom sources too, anyone reaches \
            80 and 443 on web hosts; hosts without a role are blocked from memcached (dashed). SVG is drawn by \
            clusterctl itself; dot is Graphviz source (dot -Tpng); mermaid renders in GitHub Markdown. \
            Without --format, the --out file's extension (.svg, .dot, .gv, .mmd) decides, else svg.
            """
    )

    @OptionGroup var inventoryOption: InventoryOption

    @Option(help: ArgumentHelp("Output format: svg, dot or mermaid.", valueName: "format"))
    var format: GraphFormat?

    @Option(name: .customLong("out"), help: ArgumentHelp("Write to this file instead of stdout.", valueName: "file"),
            completion: .file())
    var outputFile: String?

    func run() throws {
        let inventory = try inventoryOption.load()
        let chosen = format ?? outputFile.flatMap(GraphFormat.init(fileName:)) ?? .svg
        let text = ClusterGraph(inventory: inventory).render(chosen)
        guard let outputFile else {
            print(text, terminator: "")
            return
        }
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: outputFile), options: .atomic)
        } catch {
            Console.error("graph: cannot write \(outputFile): \(error.localizedDescription). "
                          + "Check that its directory exists and is writable, or print to stdout without --out.")
            throw ExitCode.failure
        }
        print("Wrote the \(chosen.rawValue) graph of \(inventory.hosts.count) hosts to \(outputFile)")
    }
}
