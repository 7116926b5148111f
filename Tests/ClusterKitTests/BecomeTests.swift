import Foundation
import Testing
@testable import ClusterKit

/// `BecomeTransport`'s protocol with sudo, against a stand-in `sudo` (a shell script in PATH) that behaves
/// like sudo's -n/-S/-k/-p options do; the real sudo on real hosts is the integration tests' job.
@Suite struct BecomeTests {
    /// passwordless: `-n` works. password: `-n` fails as sudo does; `-S` reads one line and wants "s3cret".
    /// The stand-in is a shell function defined in front of every command, not a script file: executing a
    /// file just written races with other tests' forks still holding it open ("Text file busy").
    static func transport(_ rule: String) throws -> (StandInSudo, String) {
        let dir = NSTemporaryDirectory() + "cct-sudo-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let function = """
            sudo() {
            rule=\(rule)
            log=\(dir)/calls; echo "$*" >> "$log"
            stdin_pw=no
            while [ $# -gt 0 ]; do
              case $1 in
                -n) [ "$rule" = requiretty ] && { echo 'sudo: sorry, you must have a tty to run sudo' >&2; return 1; }
                    # Like sudo: a user without rights is asked to authenticate first.
                    [ "$rule" = passwordless ] || { echo 'sudo: a password is required' >&2; return 1; }; shift ;;
                -k) shift ;;
                -S) stdin_pw=yes; shift ;;
                -p) shift 2 ;;
                --) shift; break ;;
                *) break ;;
              esac
            done
            if [ $stdin_pw = yes ]; then
              IFS= read -r pw
              [ "$pw" = s3cret ] || { echo 'Sorry, try again.' >&2; echo 'sudo: 1 incorrect password attempt' >&2; return 1; }
            fi
            if [ "$rule" = norights ]; then echo 'deploy is not in the sudoers file.' >&2; return 1; fi
            "$@"
            }

            """
        return (StandInSudo(function: function), dir)
    }

    struct StandInSudo: HostTransport {
        let function: String
        func run(_ command: String, stdin: [UInt8]) async throws -> CommandResult {
            try await LocalShellTransport().run(function + command, stdin: stdin)
        }
        func upload(_ data: [UInt8], to path: String, mode: Int32) async throws {
            try await LocalShellTransport().upload(data, to: path, mode: mode)
        }
        func close() async {}
    }

    @Test func passwordlessSudoRunsCommandsWithTheirStdin() async throws {
        let (base, dir) = try Self.transport("passwordless")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let become = try await BecomeTransport.probe(base, host: "web1") { Issue.record("asked for a password"); return nil }
        let result = try await become.run("/bin/sh -s", stdin: Array("echo \"it's $(cat)\"\n".utf8))
        #expect(result.succeeded)
        #expect(become.mode == .passwordless)
    }

    @Test func passwordGoesOnStdinAheadOfTheCommandsInputAndNowhereElse() async throws {
        let (base, dir) = try Self.transport("password")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let become = try await BecomeTransport.probe(base, host: "web1") { "s3cret" }
        let result = try await become.run("cat", stdin: Array("facts script\n".utf8))
        #expect(result.stdoutText == "facts script\n", "the command gets its own stdin, without the password line")
        let calls = try String(contentsOfFile: dir + "/calls", encoding: .utf8)
        #expect(!calls.contains("s3cret"), "the password is never on a command line")
        #expect(calls.contains("-k -S -p  -- /bin/sh -c cat"))
    }

    @Test(arguments: [
        ("password", Optional<String>.none, "sudo wants a password; run clusterctl on a terminal to be asked once, or set CLUSTERCTL_BECOME_PASSWORD"),
        ("password", Optional("wrong"), "the sudo password was not accepted"),
        ("requiretty", Optional<String>.none, "sudo requires a terminal on this host (sudoers `Defaults requiretty`)"),
        ("norights", Optional("s3cret"), "sudo does not work for this user: deploy is not in the sudoers file."),
    ])
    func sudoThatCannotWorkFailsTheHostWithTheReason(rule: String, password: String?, message: String) async throws {
        let (base, dir) = try Self.transport(rule)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        await #expect {
            _ = try await BecomeTransport.probe(base, host: "web1") { password }
        } throws: { error in
            let text = String(describing: error)
            return text.hasPrefix("web1: become (sudo): ") && text.contains(message) && !text.contains("wrong")
                && !text.contains("s3cret")
        }
    }

    @Test func thePasswordIsAskedOnceForAllHosts() async {
        let counter = Counter()
        let source = BecomePassword(environment: nil, prompt: { counter.increment(); return "pw" })
        for _ in 0..<5 { #expect(await source.password() == "pw") }
        #expect(counter.value == 1)
        #expect(await BecomePassword(environment: "env", prompt: { Issue.record("prompted"); return nil }).password() == "env")
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func increment() { lock.withLock { count += 1 } }
        var value: Int { lock.withLock { count } }
    }
}
