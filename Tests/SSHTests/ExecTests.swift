import Foundation
import Testing
@testable import SSH

@Suite("exec against a real sshd")
struct ExecTests {
    @Test func libssh2IsTheExpectedLibrary() {
        #expect(libssh2Version.hasPrefix("1."))
    }

    @Test func stdoutStderrAndExitStatus() async throws {
        try await withSSHServer { server in
            let connection = try await server.connect()
            let result = try await connection.exec("echo out; echo err >&2; exit 3")
            #expect(result.stdout == Array("out\n".utf8))
            #expect(result.stderr == Array("err\n".utf8))
            #expect(result.exitStatus == 3)
            #expect(result.exitSignal == nil)
            let ok = try await connection.exec("true")
            #expect(ok.exitStatus == 0 && ok.stdout.isEmpty && ok.stderr.isEmpty)
            await connection.close()
        }
    }

    @Test func exitSignalIsReported() async throws {
        try await withSSHServer { server in
            let connection = try await server.connect()
            let result = try await connection.exec("echo before; kill -KILL $$")
            #expect(result.stdout == Array("before\n".utf8))
            #expect(result.exitSignal == "KILL")
            await connection.close()
        }
    }

    @Test func twentyMegabytesOnEachStreamDoNotDeadlock() async throws {
        try await withSSHServer { server in
            let connection = try await server.connect()
            let size = 20 * 1024 * 1024
            // stderr is written completely before stdout: a client that read stdout to its end first would
            // never see the command finish.
            let result = try await connection.exec(
                "head -c \(size) /dev/zero | tr '\\000' e >&2; head -c \(size) /dev/zero | tr '\\000' o")
            #expect(result.exitStatus == 0)
            #expect(result.stdout.count == size)
            #expect(result.stderr.count == size)
            #expect(result.stdout.allSatisfy { $0 == UInt8(ascii: "o") })
            #expect(result.stderr.allSatisfy { $0 == UInt8(ascii: "e") })
            await connection.close()
        }
    }

    @Test func stdinReachesTheCommand() async throws {
        try await withSSHServer { server in
            let connection = try await server.connect()
            var input = [UInt8](repeating: 0, count: 3 * 1024 * 1024 + 17)
            for index in input.indices { input[index] = UInt8(truncatingIfNeeded: index &* 31 &+ 7) }
            let echoed = try await connection.exec("cat", stdin: input)
            #expect(echoed.exitStatus == 0)
            #expect(echoed.stdout == input)
            let counted = try await connection.exec("wc -c", stdin: Array("héllo\n".utf8))
            #expect(String(decoding: counted.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "7")
            // A command that ignores its stdin still completes.
            let ignored = try await connection.exec("echo done", stdin: input)
            #expect(ignored.stdout == Array("done\n".utf8))
            await connection.close()
        }
    }

    @Test func nonASCIICommandIsSentInFull() async throws {
        try await withSSHServer { server in
            let connection = try await server.connect()
            let result = try await connection.exec("printf '%s' 'grüße ✓ 雪'")
            #expect(String(decoding: result.stdout, as: UTF8.self) == "grüße ✓ 雪")
            await connection.close()
        }
    }

    @Test func commandTimeoutStopsWaitingAndMarksTheConnectionUnusable() async throws {
        try await withSSHServer { server in
            let connection = try await server.connect()
            let error = await #expect(throws: SSHError.self) {
                try await connection.exec("sleep 30", timeout: 1)
            }
            #expect(error?.step == .exec)
            #expect(error?.message.contains("timed out after 1s") == true)
            // libssh2 1.10 cannot signal the remote command, so the session is not reused after a timeout.
            let after = await #expect(throws: SSHError.self) { try await connection.exec("true") }
            #expect(after?.message.contains("timed out") == true)
            await connection.close()
            let fresh = try await server.connect()
            #expect(try await fresh.exec("echo fresh").stdout == Array("fresh\n".utf8))
            await fresh.close()
        }
    }

    @Test func callsAfterCloseFailClearly() async throws {
        try await withSSHServer { server in
            let connection = try await server.connect()
            await connection.close()
            let error = await #expect(throws: SSHError.self) { try await connection.exec("true") }
            #expect(error?.message.contains("closed") == true)
        }
    }
}
