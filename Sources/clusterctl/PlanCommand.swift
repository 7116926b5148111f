import ArgumentParser
import ClusterKit
import Foundation

/// `clusterctl plan -i FILE`: what apply would change on each host, from one facts round trip per host.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what apply would change on each host (packages, file diffs, services).",
        discussion: """
            Connects to every host with a role (one SSH connection each), gathers its facts with one script \
            and prints the changes, Terraform-style. Nothing is changed on any host. --json prints the plan \
            document described in docs/plan-json.md; --out saves it for `clusterctl apply FILE`.
            """
    )

    @OptionGroup var inventoryOption: InventoryOption
    @OptionGroup var planning: PlanningOptions

    @Flag(name: .customLong("detailed-exitcode"), help: "Exit 0 when nothing would change, 2 when something would, 1 on error.")
    var detailedExitcode = false

    @Flag(help: "Print the plan as a JSON document instead of text.")
    var json = false

    @Option(name: .customLong("out"), help: ArgumentHelp("Also save the plan (JSON, with each host's facts fingerprint) to this file.", valueName: "file"),
            completion: .file(extensions: ["json"]))
    var outputFile: String?

    @OptionGroup var colorOption: ColorOption

    func run() async throws {
        let plan = try await planning.makePlan(inventoryOption: inventoryOption)
        let document = PlanDocument(plan)
        if json {
            FileHandle.standardOutput.write(Data(try document.encoded()))
        } else {
            let colors = colorOption.colorizer(isTerminal: isatty(STDOUT_FILENO) == 1)
            print(colors.plan(PlanTextRenderer.render(plan)), terminator: "")
        }
        if let outputFile {
            do {
                try Data(try document.encoded()).write(to: URL(fileURLWithPath: outputFile), options: .atomic)
            } catch {
                Console.error("plan: cannot save the plan to \(outputFile): \(error.localizedDescription). "
                              + "Nothing was changed on any host. Next: give --out a path in a writable directory")
                throw ExitCode.failure
            }
            if !json { print("Saved the plan to \(outputFile); apply it with: clusterctl apply \(outputFile)") }
        }
        if plan.summary.failedHosts > 0 { throw ExitCode.failure }
        if detailedExitcode && plan.hasChanges { throw ExitCode(2) }
    }
}

/// Options shared by plan and apply.
struct PlanningOptions: ParsableArguments {
    @Option(name: .customLong("templates"), help: ArgumentHelp("Directory whose *.mustache files replace the bundled templates of the same name.", valueName: "dir"),
            completion: .directory)
    var templatesDirectory: String?

    @Option(help: ArgumentHelp("Only these hosts: comma-separated names or globs, e.g. mc1,web*.", valueName: "hosts"))
    var limit: String?

    /// Every host of most clusters at once: a host's time is mostly waiting on it (its package manager,
    /// the firewall's settle time), and each costs here only one SSH connection, one thread and little CPU.
    static let defaultParallel = 256

    @Option(help: ArgumentHelp("How many hosts to work on at once (each is one SSH connection and one thread).", valueName: "n"))
    var parallel: Int = PlanningOptions.defaultParallel

    func validate() throws {
        guard parallel >= 1 else { throw ValidationError("--parallel must be at least 1") }
    }

    var hostLimit: HostLimit? { limit.map(HostLimit.init) }

    /// Loads the inventory, renders, connects and plans. Bad input ends the command before any connection.
    func makePlan(inventoryOption: InventoryOption, pool: ConnectionPool? = nil) async throws -> Plan {
        try await makePlanAndReplanner(inventoryOption: inventoryOption, pool: pool).0
    }

    /// `makePlan`, with what apply needs to plan a host again under its run lock.
    func makePlanAndReplanner(inventoryOption: InventoryOption, pool: ConnectionPool? = nil) async throws -> (Plan, Replanner) {
        let inventory = try inventoryOption.load()
        let builder = PlanBuilder()
        let targets: [HostTarget]
        let webSettings: [PHPIniSetting]
        do {
            let templates = try TemplateSet(overridesDirectory: templatesDirectory)
            targets = try builder.targets(inventory: inventory, renderer: Renderer(templates: templates), limit: hostLimit)
            // The first web host by name, as `render` lists them; rendering only it, not every host again.
            let firstWeb = inventory.hosts.sorted { $0.name < $1.name }.first { $0.roles.contains(.web) }
            webSettings = try firstWeb.map {
                try Renderer(templates: templates).render($0, in: inventory, family: Renderer.declaredFamily(of: $0)).phpIniSettings
            } ?? []
        } catch {
            Console.failedBeforeHosts(error, "Nothing was changed on any host.")
            throw ExitCode.failure
        }
        // Without a pool from the caller (plain `plan`), connections end with the plan.
        let ownPool = pool == nil ? Self.sshPool() : nil
        var plan = await builder.plan(targets, pool: pool ?? ownPool!, parallel: parallel)
        await ownPool?.closeAll()
        plan.session = SessionRedundancyNotes.session(inventory: inventory, webSettings: webSettings)
        plan.warnings = SessionRedundancyNotes.warnings(for: plan, handler: inventory.php.sessionHandler)
        return (plan, builder.replanner(for: targets))
    }

    /// `output`, when given, sees every command of these connections (-v, --log-file).
    static func sshPool(output: RunOutput? = nil) -> ConnectionPool {
        let connect: HostConnector = { host in try await SSHHostTransport.connect(host, becomePassword: BecomePrompt.shared) }
        return ConnectionPool(connector: output?.logging(connect) ?? connect)
    }
}
