import ArgumentParser
import Foundation

/// When to colour: as Terraform and most CLIs do, only for a person (a terminal) unless asked.
enum ColorMode: String, ExpressibleByArgument, CaseIterable, Sendable {
    case auto, always, never

    /// `always`/`never` are the operator's explicit word and win over NO_COLOR (no-color.org lets flags
    /// override it); `auto` colours a terminal only, and never when NO_COLOR is set to anything non-empty.
    func enabled(isTerminal: Bool, environment: [String: String]) -> Bool {
        switch self {
        case .always: return true
        case .never: return false
        case .auto: return isTerminal && (environment["NO_COLOR"] ?? "").isEmpty
        }
    }
}

/// `--color`, for every command that prints plan text (plan, apply, verify).
struct ColorOption: ParsableArguments {
    @Option(help: ArgumentHelp("Colour: auto (a terminal, unless NO_COLOR is set), always or never.", valueName: "when"))
    var color: ColorMode = .auto

    func colorizer(isTerminal: Bool) -> Colorizer {
        Colorizer(enabled: color.enabled(isTerminal: isTerminal, environment: ProcessInfo.processInfo.environment))
    }
}

/// How much apply and verify print, in colour or not, and where the verbose log goes. Shared by both.
struct OutputOptions: ParsableArguments {
    @OptionGroup var colorOption: ColorOption

    @Flag(name: [.short, .customLong("quiet")], help: "Print only errors and the summary (apply: the recap; verify: the failed checks).")
    var quiet = false

    @Flag(name: [.short, .customLong("verbose")], help: "Also print every remote command (never its input: no passwords).")
    var verbose = false

    @Option(name: .customLong("log-file"), help: ArgumentHelp("Append the verbose log (steps and commands, timestamped) to this file, whatever the screen shows.", valueName: "file"),
            completion: .file())
    var logFile: String?

    func validate() throws {
        if quiet && verbose { throw ValidationError("-q/--quiet and -v/--verbose cannot be used together") }
    }

    var verbosity: Verbosity { quiet ? .quiet : verbose ? .verbose : .normal }
}

enum Verbosity: Sendable { case quiet, normal, verbose }

/// Where human text goes: stdout, or stderr when stdout carries JSON events.
struct Screen: Sendable {
    let handle: FileHandle
    let isTerminal: Bool

    static func human(json: Bool) -> Screen {
        let descriptor = json ? STDERR_FILENO : STDOUT_FILENO
        return Screen(handle: json ? .standardError : .standardOutput, isTerminal: isatty(descriptor) == 1)
    }

    func write(_ text: String) {
        handle.write(Data(text.utf8))
    }

    /// Columns and rows of the terminal (live lines must neither wrap nor outnumber the rows, or redrawing
    /// them in place would go wrong); 80x50 if unknown.
    var size: (width: Int, height: Int) {
        var size = winsize()
        let descriptor = handle === FileHandle.standardError ? STDERR_FILENO : STDOUT_FILENO
        guard ioctl(descriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 else { return (80, 50) }
        return (Int(size.ws_col), Int(size.ws_row))
    }
}
