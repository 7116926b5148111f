import ArgumentParser
import ClusterKit

/// `clusterctl render -i FILE --out DIR`: everything clusterctl would put on each host, as files. Offline.
struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Render every host's files, php.ini lines and firewall rules into a directory (no network).",
        discussion: """
            Writes DIR/<host>/<path> for each managed file (DIR/mc1/etc/sysconfig/memcached), \
            DIR/<host>/php-session.ini (the php.ini session lines) and DIR/<host>/firewall.rules \
            (the CLUSTERCTL chain). Nothing is written when the inventory or a template is invalid.
            """
    )

    @OptionGroup var inventoryOption: InventoryOption

    @Option(name: .customLong("out"), help: ArgumentHelp("Directory to render into (created if missing; must be empty).", valueName: "dir"),
            completion: .directory)
    var outputDirectory: String

    @Flag(help: "Render into a non-empty directory, overwriting the rendered files and removing those of an earlier render that are no longer rendered (a host that left the inventory).")
    var force = false

    @Option(name: .customLong("templates"), help: ArgumentHelp("Directory whose *.mustache files replace the bundled templates of the same name.", valueName: "dir"),
            completion: .directory)
    var templatesDirectory: String?

    func run() throws {
        let inventory = try inventoryOption.load()
        let renderings: [HostRendering]
        do {
            let templates = try TemplateSet(overridesDirectory: templatesDirectory)
            renderings = try Renderer(templates: templates).render(inventory)
        } catch {
            Console.failedBeforeHosts(error, "render: nothing was written.")
            throw ExitCode.failure
        }
        let result: RenderDirectory.WriteResult
        do {
            result = try RenderDirectory.writeRecorded(renderings, to: outputDirectory, force: force)
        } catch {
            Console.error("\(error)")
            throw ExitCode.failure
        }
        print(Self.summary(renderings, files: result.files, inventory: inventory, directory: outputDirectory))
        if !result.removed.isEmpty {
            print("Removed what an earlier render wrote and this one did not: \(result.removed.joined(separator: ", "))")
        }
    }

    static func summary(_ renderings: [HostRendering], files: [RenderDirectory.OutputFile],
                        inventory: Inventory, directory: String) -> String {
        let width = renderings.map(\.host.name.count).max() ?? 0
        var lines = ["Rendered \(renderings.count) host\(renderings.count == 1 ? "" : "s") into \(directory)/ "
                     + "(session handler \(inventory.php.sessionHandler.rawValue)):"]
        for rendering in renderings {
            let name = rendering.host.name
            let roles = rendering.host.sortedRoles.map(\.rawValue).joined(separator: ",")
            let hostFiles = files.filter { $0.relativePath.hasPrefix(name + "/") }
                .map { String($0.relativePath.dropFirst(name.count + 1)) }
            let padded = name + String(repeating: " ", count: width - name.count)
            let roleText = roles.isEmpty ? "(no role)" : roles
            let assumed = rendering.host.os == nil ? "*" : ""
            lines.append("  \(padded)  \(roleText.padding(toLength: 14, withPad: " ", startingAt: 0))"
                         + "\(rendering.family.key)\(assumed): "
                         + "\(hostFiles.joined(separator: ", ")) (\(rendering.firewallRules.rules.count) firewall rules)")
        }
        if renderings.contains(where: { $0.host.os == nil }) {
            lines.append("* no os in the inventory: rendered for \(Renderer.defaultFamily.name); plan recognises each host's OS "
                         + "itself. Set \"os\" (\(OSFamilies.releaseKeys.joined(separator: ", "))) to render for another.")
        }
        return lines.joined(separator: "\n")
    }
}
