import ClusterKit
import Foundation

/// Printing to stderr. (Glibc's `stderr` global is not concurrency-safe to touch in Swift 6 mode.)
enum Console {
    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// An error found before any host was touched (a template, --limit): the error, what was not done, and
    /// what to do next.
    static func failedBeforeHosts(_ error: any Error, _ nothingDone: String) {
        Console.error("\(error)")
        Console.error(nextStep(for: error).map { "\(nothingDone) Next: \($0)" } ?? nothingDone)
    }

    static func nextStep(for error: any Error) -> String? {
        switch error {
        case is TemplateError:
            return "fix the template named above, or take it out of the --templates directory to use the bundled one; "
                + "`clusterctl render --templates DIR --out OUT` checks templates without touching any host"
        case is HostLimitError:
            return "give --limit a host name or glob from the list above"
        default:
            return nil
        }
    }
}
