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
            session.save_handler/save_path; every web host places sessions alike (handler, server list, \
            hashing), and a session written on each web host is read on the next one (a ring, so the time \
            grows with the hosts, not their pairs), through PHP and over HTTP; with --failover, each memcache \
            host is then cut off from the web hosts in turn and sessions written before must still be read and \
            new ones written. Test sessions and pages are removed afterwards. Exit status 0 only if \
            every check passes. Progress: on a terminal one live line per host (the phase it is in); otherwise one \
            timestamped line per host and phase. --json prints one document at the end (unchanged since it was \
            introduced); --json-events prints newline-delimited events as apply --json does (docs/events-json.md).
            """
    )

    @OptionGroup var inventoryOption: InventoryOption

    @Option(name: .customLong("templates"), help: ArgumentHelp("Directory whose *.mustache files replace the bundled templates of the same name.", valueName: "dir"),
            completion: .directory)
    var templatesDirectory: String?

    @Flag(help: "Print the checks as JSON ({\"passed\": Bool, \"checks\": [{host, check, passed, detail}]}).")
    var json = false

    // A separate flag rather than a new meaning of --json: scripts already parse verify's single document.
    @Flag(name: .customLong("json-events"), help: "Print newline-delimited JSON events on stdout (docs/events-json.md); text goes to stderr.")
    var jsonEvents = false

    @Flag(help: "Also cut each memcache host off from the web hosts in turn (an iptables REJECT rule on it, removed afterwards and by a guard on the host after 120 s whatever happens) and check that sessions written before are still read on every web host and new ones can be written.")
    var failover = false

    @OptionGroup var outputOptions: OutputOptions

    func validate() throws {
        if json && jsonEvents { throw ValidationError("--json and --json-events cannot be used together") }
    }

    func run() async throws {
        let output = try RunOutput.make(outputOptions, jsonEvents: jsonEvents, command: "verify")
        let inventory = try inventoryOption.load()
        let expected: Verifier.ExpectedSession
        do {
            let renderings = try Renderer(templates: try TemplateSet(overridesDirectory: templatesDirectory)).render(inventory)
            guard let session = Verifier.expectedSession(from: renderings) else {
                Console.error("verify: the inventory has no web host, so there is nothing to verify. "
                              + "Next: give at least one host the role \"web\" (roles: [\"web\"])")
                throw ExitCode.failure
            }
            expected = session
        } catch let error as TemplateError {
            Console.failedBeforeHosts(error, "verify: nothing was checked.")
            throw ExitCode.failure
        }
        let connect: HostConnector = { host in
            try await SSHHostTransport.connect(host, becomePassword: BecomePrompt.shared, commandTimeout: 60)
        }
        // --json's one document is on stdout: no progress around it.
        if !json { output.beginVerify(hosts: inventory.hosts.map(\.name)) }
        var progress: VerifyEventSink = { _ in }
        if !json { progress = { event in output.verifyProgress(event) } }
        var verifier = Verifier(inventory: inventory, expected: expected, connect: output.logging(connect),
                                events: progress)
        verifier.failover = failover
        let report = await verifier.run()
        output.endVerify(report)
        if json {
            struct Document: Encodable { var passed: Bool; var checks: [VerifyCheck] }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            FileHandle.standardOutput.write(try encoder.encode(Document(passed: report.passed, checks: report.checks)))
            print()
        } else {
            // -q: only the failed checks' lines and the summary.
            let lines = report.text.split(separator: "\n", omittingEmptySubsequences: false)
            let shown = output.verbosity == .quiet
                ? lines.filter { !$0.hasPrefix("✓") && !$0.isEmpty }.joined(separator: "\n") + "\n"
                : report.text
            output.show(shown, painter: output.colors.verify, evenQuiet: true)
        }
        if !report.passed { throw ExitCode.failure }
    }
}
