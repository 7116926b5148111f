import ArgumentParser
import ClusterKit
import Foundation

/// Everything apply and verify show, in one place: human text (plan, progress, recap) on `screen`, coloured
/// or not; JSON events when asked (then the human text is on stderr); the -v log in `--log-file`.
/// Events come from many hosts' tasks at once: the lock keeps lines whole and in order.
final class RunOutput: @unchecked Sendable {
    let verbosity: Verbosity
    let colors: Colorizer
    let events: EventStream?
    private let screen: @Sendable (String) -> Void
    private let isTerminal: Bool
    private let size: (width: Int, height: Int)
    private let log: FileHandle?
    private let now: @Sendable () -> Date
    /// Redacted from every command line shown or logged. Never expected there (BecomeTransport passes the
    /// sudo password on stdin only), so this is a second line of defence.
    private let secrets: [String]
    private let lock = NSLock()
    private var live: LiveProgress?
    /// Hosts whose failed step was already reported with its message: their host line need not repeat it.
    private var hostsWithFailedStep: Set<String> = []
    /// Hosts verify has started on (their first phase starts their live line).
    private var verifyStarted: Set<String> = []

    init(verbosity: Verbosity, colors: Colorizer, events: EventStream?, isTerminal: Bool, size: (width: Int, height: Int),
         log: FileHandle?, secrets: [String] = [], now: @escaping @Sendable () -> Date = Date.init,
         screen: @escaping @Sendable (String) -> Void) {
        self.verbosity = verbosity
        self.colors = colors
        self.events = events
        self.isTerminal = isTerminal
        self.size = size
        self.log = log
        self.secrets = secrets.filter { !$0.isEmpty }
        self.now = now
        self.screen = screen
    }

    /// The CLI's: from the options, the process's streams and environment.
    static func make(_ options: OutputOptions, jsonEvents: Bool, command: String) throws -> RunOutput {
        let human = Screen.human(json: jsonEvents)
        var log: FileHandle?
        if let path = options.logFile {
            if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
            guard let handle = FileHandle(forWritingAtPath: path) else {
                Console.error("\(command): cannot open the log file \(path) for writing; nothing was done. "
                              + "Next: give --log-file a path in a writable directory")
                throw ExitCode.failure
            }
            handle.seekToEndOfFile()
            log = handle
        }
        // Hosts report from several tasks: one write per event, never two at once, keeps every line whole.
        let stdoutLock = NSLock()
        let events = jsonEvents
            ? EventStream(write: { text in stdoutLock.withLock { FileHandle.standardOutput.write(Data(text.utf8)) } }) : nil
        let output = RunOutput(
            verbosity: options.verbosity,
            colors: options.colorOption.colorizer(isTerminal: human.isTerminal),
            events: events, isTerminal: human.isTerminal, size: human.isTerminal ? human.size : (80, 50), log: log,
            secrets: [ProcessInfo.processInfo.environment["CLUSTERCTL_BECOME_PASSWORD"] ?? ""], screen: human.write)
        events?.versionEvent(command: command)
        output.logOnly("clusterctl \(Version.clusterctl) \(command) started")
        return output
    }

    // MARK: human text

    /// Text that is part of the normal output (the plan), left out by -q unless `evenQuiet`. `painter`
    /// colours it for the screen; the log always gets it plain.
    func show(_ text: String, painter: ((String) -> String)? = nil, evenQuiet: Bool = false) {
        logOnly(text, stamped: false)
        guard verbosity != .quiet || evenQuiet else { return }
        emit(painter?(text) ?? text)
    }

    /// An error: shown even with -q.
    func error(_ text: String) {
        logOnly(text)
        emit(colors.paint(text, .red) + "\n")
    }

    // MARK: apply progress

    /// Live lines on a terminal (not with -q); from here until `endApply`.
    func beginApply(hosts: [String]) {
        guard isTerminal && verbosity != .quiet else { return }
        let live = LiveProgress(hosts: hosts, width: size.width, height: size.height, colors: colors, now: now,
                                write: screen)
        lock.withLock { self.live = live }
        live.startTicking()
    }

    /// The `ApplyEventSink` given to ClusterApplier.
    func handle(_ event: ApplyEvent) {
        events?.apply(event)
        let time = now()
        if let line = ProgressLines.line(for: event, at: time, verbose: true) { logOnly(line, stamped: false) }
        if let live = lock.withLock({ self.live }) {
            live.handle(event)
            if case .stepFailed = event, verbosity == .verbose, let line = ProgressLines.line(for: event, at: time, verbose: true) {
                live.printAbove(colors.paint(line, .red) + "\n")
            }
            return
        }
        // Plain lines: a host's last line does not repeat the message its failed step's line just gave.
        var event = event
        lock.withLock {
            if case .stepFailed(let host, _, _) = event { hostsWithFailedStep.insert(host) }
            if case .hostFinished(var outcome) = event, hostsWithFailedStep.contains(outcome.host) {
                outcome.message = nil
                event = .hostFinished(outcome)
            }
        }
        // -q keeps the lines that say why something failed.
        let failed: Bool, reason: Bool
        switch event {
        case .stepFailed: (failed, reason) = (true, true)
        case .hostFinished(let outcome): (failed, reason) = (outcome.status == .failed, outcome.message != nil)
        default: (failed, reason) = (false, false)
        }
        guard verbosity != .quiet || (failed && reason),
              let line = ProgressLines.line(for: event, at: time, verbose: verbosity == .verbose) else { return }
        emit((failed ? colors.paint(line, .red) : line) + "\n")
    }

    func endApply(_ recap: ApplyRecap) {
        let live = finishLive()
        events?.recap(recap)
        if live == nil && verbosity != .quiet { emit("\n") }
        logOnly(recap.text, stamped: false)
        emit(colors.recap(recap.text))
    }

    // MARK: signals

    /// The first Ctrl-C or SIGTERM (from the signal queue): said once, above the live lines.
    func interrupted(signal: String) {
        events?.interrupted(signal: signal)
        let text = "Interrupted (\(signal)): no new step starts; running steps finish, then the run locks are "
            + "released and the recap printed. Press Ctrl-C again to abort at once."
        logOnly(text)
        if let live = lock.withLock({ self.live }) {
            live.printAbove(colors.paint(text, .yellow) + "\n")
        } else {
            emit(colors.paint(text, .yellow) + "\n")
        }
    }

    /// The last words before exiting on a second signal (or a signal at the confirmation prompt).
    func aborted(signal: String, beforeApplying: Bool) {
        let text = beforeApplying ? "\(signal): apply cancelled. Nothing was changed."
            : "\(signal): aborted. Steps that were running were cut off and their journal lines are lost; a host's "
            + "run lock stays until the next apply takes it over (its SSH session ends with this process), which also "
            + "removes temporary files left behind; a firewall rollback still armed restores the host's previous rules."
        events?.aborted(signal: signal)
        logOnly(text)
        emit("\n" + colors.paint(text, .red) + "\n")
    }

    // MARK: verify progress

    /// Live lines on a terminal (not with -q) while verify runs, one per host: the phase it is in.
    func beginVerify(hosts: [String]) {
        beginApply(hosts: hosts)
    }

    /// The `VerifyEventSink` given to Verifier. On a terminal the live lines move phase by phase; elsewhere one
    /// timestamped line per host and phase that found something (failures even with -q); JSON gets every check
    /// as it is made.
    func verifyProgress(_ event: VerifyEvent) {
        let time = now()
        switch event {
        case .checking(let host, let what):
            let first = lock.withLock { verifyStarted.insert(host).inserted }
            if let live = lock.withLock({ self.live }) {
                if first { live.handle(.hostStarted(host: host)) }
                live.handle(.stepStarted(host: host, step: what))
            }
            if first {
                logOnly("\(ProgressLines.timestamp(time)) \(host): started", stamped: false)
            }
        case .checked(let host, let what, let checks, let seconds):
            checks.forEach { events?.check($0) }
            let failed = checks.filter { !$0.passed }
            let summary = failed.isEmpty
                ? "\(checks.count) check\(checks.count == 1 ? "" : "s") passed in \(ProgressLines.duration(seconds))"
                : "\(failed.count) of \(checks.count) check\(checks.count == 1 ? "" : "s") failed: \(failed[0].detail)"
            let line = "\(ProgressLines.timestamp(time)) \(host): \(what): \(summary)"
            logOnly(line, stamped: false)
            if let live = lock.withLock({ self.live }) {
                live.handle(.stepFinished(host: host, step: failed.isEmpty ? what : "\(what) (\(failed.count) failed)",
                                          seconds: seconds))
                return
            }
            // A phase that found nothing on this host (connected fine) is not worth a line.
            guard !checks.isEmpty, verbosity != .quiet || !failed.isEmpty else { return }
            emit((failed.isEmpty ? line : colors.paint(line, .red)) + "\n")
        }
    }

    /// Removes the live lines (the report takes their place) and sends the JSON summary.
    func endVerify(_ report: VerifyReport) {
        let live = finishLive()
        events?.verifySummary(report)
        if live == nil && verbosity != .quiet && !report.checks.isEmpty { emit("\n") }
    }

    // MARK: remote commands (-v)

    /// Called by `LoggedTransport` before each remote command runs.
    func command(_ command: String, host: String, stdinBytes: Int) {
        guard log != nil || verbosity == .verbose else { return }
        var line = ProgressLines.command(command, host: host, stdinBytes: stdinBytes, at: now())
        for secret in secrets { line = line.replacingOccurrences(of: secret, with: "[redacted]") }
        logOnly(line, stamped: false)
        guard verbosity == .verbose else { return }
        if let live = lock.withLock({ self.live }) {
            live.printAbove(colors.paint(line, .dim) + "\n")
        } else {
            emit(colors.paint(line, .dim) + "\n")
        }
    }

    /// Wraps a connector so every command on its connections is reported (-v, --log-file).
    func logging(_ connect: @escaping HostConnector) -> HostConnector {
        { host in LoggedTransport(base: try await connect(host), host: host.name, output: self) }
    }

    // MARK: plumbing

    /// Ends the live lines, if any (what the end of the run prints takes their place); returns them.
    private func finishLive() -> LiveProgress? {
        let live = lock.withLock { () -> LiveProgress? in
            defer { self.live = nil }
            return self.live
        }
        live?.finish()
        return live
    }

    private func emit(_ text: String) {
        lock.withLock { screen(text) }
    }

    private func logOnly(_ text: String, stamped: Bool = true) {
        guard let log else { return }
        let body = text.hasSuffix("\n") ? text : text + "\n"
        let line = stamped ? "\(ProgressLines.timestamp(now())) \(body)" : body
        lock.withLock { log.write(Data(line.utf8)) }
    }
}

/// A transport that tells `RunOutput` each command before running it: the command line only, never its
/// stdin (where BecomeTransport, below this one, puts the sudo password) and never uploaded contents.
struct LoggedTransport: HostTransport {
    let base: HostTransport
    let host: String
    let output: RunOutput

    func run(_ command: String, stdin: [UInt8]) async throws -> CommandResult {
        output.command(command, host: host, stdinBytes: stdin.count)
        return try await base.run(command, stdin: stdin)
    }

    func upload(_ data: [UInt8], to path: String, mode: Int32) async throws {
        output.command("upload \(data.count) bytes to \(path) (mode \(String(mode, radix: 8)))", host: host, stdinBytes: 0)
        try await base.upload(data, to: path, mode: mode)
    }

    func close() async {
        await base.close()
    }

    var sshPort: Int? { base.sshPort }
}
