import Foundation
import Testing

@Suite struct VersionTests {
    @Test func versionNamesClusterctlAndTheLoadedLibssh2() throws {
        let result = try CommandLineRun.run(["--version"])
        #expect(result.status == 0, "\(result.stderr)")
        let match = try #require(result.stdout.wholeMatch(of: /clusterctl (\d+\.\d+\.\d+) \(libssh2 (\d+\.\d+\.\d+)\)\n/),
                                 "unexpected --version output: \(result.stdout)")
        // The build links the system libssh2 (libssh2-1-dev): its pkg-config version is the one loaded.
        let pkgConfig = try ExternalTool.run("pkg-config", ["--modversion", "libssh2"])
        #expect(String(match.output.2) == pkgConfig.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(try CommandLineRun.run(["plan", "--version"]).stdout == result.stdout)
    }

    /// --version must not initialise libssh2, load templates or read an inventory: scripts and bug reports call
    /// it freely. The time is printed, not asserted (speed targets are shown by scripts/bench, not by timed
    /// assertions that a busy machine would fail); the best of several runs filters out the load.
    @Test func versionRunsAndItsTimeIsPrinted() throws {
        let clock = ContinuousClock()
        var best = Duration.seconds(60)
        for _ in 0..<10 {
            var status: Int32 = -1
            let elapsed = try clock.measure { status = try CommandLineRun.run(["--version"]).status }
            #expect(status == 0)
            best = min(best, elapsed)
        }
        print("clusterctl --version: fastest of 10 runs \(best) (target: under 20 ms)")
    }
}

/// The completion scripts come from ArgumentParser and the argument definitions: these check that each shell
/// accepts the script, and that bash and fish really complete subcommands and option values with it.
@Suite struct CompletionTests {
    static func script(_ shell: String) throws -> URL {
        let result = try CommandLineRun.run(["--generate-completion-script", shell])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("init") && result.stdout.contains("graph") && result.stdout.contains("detailed-exitcode"))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("clusterctl-completion-\(UUID().uuidString).\(shell)")
        try Data(result.stdout.utf8).write(to: file)
        return file
    }

    @Test(arguments: [("bash", ["-n"]), ("zsh", ["-n"]), ("fish", ["--no-execute"])])
    func shellAcceptsTheScript(_ shell: String, _ checkArguments: [String]) throws {
        let file = try Self.script(shell)
        defer { try? FileManager.default.removeItem(at: file) }
        let check = try ExternalTool.run(shell, checkArguments + [file.path])
        #expect(check.status == 0, "\(shell) rejects the completion script: \(check.stderr)")
        #expect(check.stderr.isEmpty, "\(check.stderr)")
    }

    /// Calls the completion function the way bash does (`_clusterctl COMMAND WORD PREVIOUS`).
    @Test func bashCompletesSubcommandsAndGraphFormats() throws {
        let file = try Self.script("bash")
        defer { try? FileManager.default.removeItem(at: file) }
        func complete(_ words: [String]) throws -> [String] {
            let line = words.joined(separator: " ")
            let quoted = words.map { "'\($0)'" }.joined(separator: " ")
            let script = """
                source '\(file.path)'
                COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1); COMP_LINE='\(line)'; COMP_POINT=${#COMP_LINE}
                _clusterctl clusterctl '\(words.last!)' '\(words[words.count - 2])'
                printf '%s\\n' "${COMPREPLY[@]}"
                """
            let result = try ExternalTool.run("bash", ["-c", script])
            #expect(result.status == 0, "\(result.stderr)")
            return result.stdout.split(separator: "\n").map(String.init)
        }
        #expect(try complete(["clusterctl", "gr"]) == ["graph"])
        #expect(try complete(["clusterctl", "in"]) == ["init"])
        #expect(try complete(["clusterctl", "graph", "--format", ""]) == ["svg", "dot", "mermaid"])
        #expect(try complete(["clusterctl", "plan", "--detailed"]) == ["--detailed-exitcode"])
    }

    @Test func fishCompletesSubcommandsAndGraphFormats() throws {
        let file = try Self.script("fish")
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try ExternalTool.run("fish", ["-c", "source '\(file.path)'; complete -C 'clusterctl gr'; complete -C 'clusterctl graph --format '"])
        #expect(result.status == 0, "\(result.stderr)")
        let words = result.stdout.split(separator: "\n").map { String($0.split(separator: "\t")[0]) }
        #expect(words == ["graph", "svg", "dot", "mermaid"])
    }
}
