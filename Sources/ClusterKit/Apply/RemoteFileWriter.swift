/// Writes a remote file atomically: upload to a temporary file in the same directory (same filesystem, so
/// the rename is atomic), set owner and mode on it, keep the previous version as `FILE.clusterctl-bak`,
/// then `mv -f` over the target. Readers see the old or the new file, never a partial one.
public enum RemoteFileWriter {
    public static let backupSuffix = ".clusterctl-bak"

    public static func temporaryPath(for path: String) -> String {
        temporaryPrefix(for: path) + String(UInt32.random(in: .min ... .max), radix: 16)
    }

    /// What every temporary file of `path` starts with: `DIR/.NAME.clusterctl-tmp-`.
    public static func temporaryPrefix(for path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        return "\(directory)/.\(name).clusterctl-tmp-"
    }

    /// Removes every temporary file of `path` (left by a write that was killed between upload and rename).
    /// `rm` starts only when the glob matched: usually nothing is left, and a process is milliseconds on every
    /// host of a run (issue 15). Succeeds either way.
    public static func removeTemporariesCommand(for path: String) -> String {
        let pattern = ShellQuote.quote(temporaryPrefix(for: path)) + "*"
        return "for t in \(pattern); do if [ -e \"$t\" ]; then rm -f \(pattern); fi; break; done"
    }

    /// The command that finishes the write once the temporary file is uploaded; removes it on failure.
    public static func commitCommand(path: String, temporary: String, mode: Int32, owner: String, group: String) -> String {
        let f = ShellQuote.quote(path), t = ShellQuote.quote(temporary)
        let steps = [
            "chown \(ShellQuote.quote(owner + ":" + group)) \(t)",
            "chmod \(String(mode, radix: 8)) \(t)",
            "if [ -f \(f) ]; then cp -p \(f) \(ShellQuote.quote(path + backupSuffix)); fi",
            "mv -f \(t) \(f)",
            // Temporary files of a run killed between upload and mv (issue 14). Once ours is moved, any left
            // is stale; here rather than in the facts script, whose output must stay free of such leftovers
            // (its hash fingerprints a saved plan). A killed write is planned again, so the next apply gets here.
            removeTemporariesCommand(for: path),
        ]
        return "{ " + steps.joined(separator: " && ") + "; } || { rm -f \(t); exit 1; }"
    }

    public static func write(_ file: FileChange, transport: HostTransport) async throws {
        if !file.exists, let slash = file.path.lastIndex(of: "/"), slash != file.path.startIndex {
            try await ApplyCommand.run("mkdir -p " + ShellQuote.quote(String(file.path[..<slash])), on: transport,
                                       step: "create directory for \(file.path)")
        }
        let temporary = temporaryPath(for: file.path)
        // 0600 until chown/chmod: a file that ends up private is never readable by others in between.
        do {
            try await transport.upload(file.newContents, to: temporary, mode: 0o600)
        } catch {
            throw ApplyError(step: "upload \(file.path)", message: String(describing: error))
        }
        try await ApplyCommand.run(commitCommand(path: file.path, temporary: temporary, mode: file.mode,
                                                 owner: file.owner, group: file.group),
                                   on: transport, step: "write \(file.path)")
    }
}

public struct ApplyError: Error, CustomStringConvertible, Equatable {
    public var step: String
    public var message: String
    public init(step: String, message: String) {
        self.step = step
        self.message = message
    }
    public var description: String { "\(step): \(message)" }
}

enum ApplyCommand {
    /// Runs a command, throwing `ApplyError` with the last lines of its output when it fails.
    @discardableResult
    static func run(_ command: String, on transport: HostTransport, step: String) async throws -> CommandResult {
        let result: CommandResult
        do {
            result = try await transport.run(command)
        } catch {
            throw ApplyError(step: step, message: String(describing: error))
        }
        guard result.succeeded else {
            let output = (result.stderrText + result.stdoutText).split(separator: "\n").suffix(3)
                .joined(separator: " / ")
            let status = result.exitSignal.map { "killed by signal \($0)" } ?? "exit status \(result.exitStatus)"
            throw ApplyError(step: step, message: status + (output.isEmpty ? "" : ": " + output))
        }
        return result
    }
}
