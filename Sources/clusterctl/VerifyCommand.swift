import ArgumentParser
import ClusterKit
import Foundation

/// `clusterctl verify -i FILE`: proves, over SSH only, that the live cluster shares sessions through memcached
/// and that memcached answers nobody but the web hosts. Changes nothing that it does not remove again.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the live cluster: memcached, who reaches it, PHP's session settings, shared sessions.",
        discussion: """
            Every check runs on a cluster host over SSH (your machine need not reach the private network): \
            memcached answers stats on its private address; every web host reaches every memcache host and no \
            other inventory host does; PHP loads the session handler's extension with the expected \
            session.save_handler/save_path; a session written on each web host is read on every other one, \
            through PHP and over HTTP. Test sessions and pages are removed afterwards. Exit status 0 only if \
            every check passes.
            """
    )

    @OptionGroup var inventoryOption: InventoryOption

    @Option(name: .customLong("templates"), help: ArgumentHelp("Directory whose *.mustache files replace the bundled templates of the same name.", valueName: "dir"),
            completion: .directory)
    var templatesDirectory: String?

    @Flag(help: "Print the checks as JSON ({\"passed\": Bool, \"checks\": [{host, check, passed, detail}]}).")
    var json = false

    func run() async throws {
        let inventory = try inventoryOption.load()
        let expected: Verifier.ExpectedSession
        do {
            let renderings = try Renderer(templates: try TemplateSet(overridesDirectory: templatesDirectory)).render(inventory)
            guard let session = Verifier.expectedSession(from: renderings) else {
                Console.error("verify: the inventory has no web host")
                throw ExitCode.failure
            }
            expected = session
        } catch let error as TemplateError {
            Console.error("\(error)")
            throw ExitCode.failure
        }
        let report = await Verifier(inventory: inventory, expected: expected) { host in
            try await SSHHostTransport.connect(host, becomePassword: BecomePrompt.shared, commandTimeout: 60)
        }.run()
        if json {
            struct Document: Encodable { var passed: Bool; var checks: [VerifyCheck] }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            FileHandle.standardOutput.write(try encoder.encode(Document(passed: report.passed, checks: report.checks)))
            print()
        } else {
            print(report.text, terminator: "")
        }
        if !report.passed { throw ExitCode.failure }
    }
}
