import Foundation
import Testing
@testable import SSH

@Suite("host key checks against a real sshd")
struct HostKeyTests {
    private func write(_ lines: [String], in server: TestSSHServer, name: String = "kh") throws -> String {
        let path = server.directory + "/" + name
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func plainPortEntryMatches() async throws {
        try await withSSHServer { server in
            let connection = try await server.connect()
            #expect(try await connection.exec("true").exitStatus == 0)
            await connection.close()
        }
    }

    @Test func mismatchIsRefusedWithBothFingerprintsAndTheLine() async throws {
        try await withSSHServer { server in
            let other = try server.generateKey(name: "other_host_key", type: "ed25519", authorize: false)
            let otherLine = try String(contentsOfFile: other + ".pub", encoding: .utf8).split(separator: " ")
            let path = try write(["# comment", "[127.0.0.1]:\(server.port) \(otherLine[0]) \(otherLine[1])"], in: server)
            let error = await #expect(throws: SSHError.self) { try await server.connect(server.config(knownHosts: path)) }
            let expected = try runTool("/usr/bin/ssh-keygen", ["-l", "-E", "sha256", "-f", other + ".pub"])
                .stdout.split(separator: " ")[1]
            #expect(error?.step == .hostKey)
            #expect(error?.message.contains("HAS CHANGED") == true)
            #expect(error?.message.contains(String(expected)) == true)
            #expect(error?.message.contains(try server.hostFingerprint()) == true)
            #expect(error?.message.contains("\(path):2") == true)
        }
    }

    @Test func unknownHostIsRefusedWithItsFingerprint() async throws {
        try await withSSHServer { server in
            let path = try write(["[127.0.0.1]:1 \(server.hostPublicKey)"], in: server)
            let error = await #expect(throws: SSHError.self) { try await server.connect(server.config(knownHosts: path)) }
            #expect(error?.step == .hostKey)
            #expect(error?.message.contains("is not in \(path)") == true)
            #expect(error?.message.contains(try server.hostFingerprint()) == true)
            // Nothing was added under the strict policy.
            #expect(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count == 1)
        }
    }

    @Test func plainEntryWithoutPortDoesNotMatchANonStandardPort() async throws {
        try await withSSHServer { server in
            let path = try write(["127.0.0.1 \(server.hostPublicKey)"], in: server)
            let error = await #expect(throws: SSHError.self) { try await server.connect(server.config(knownHosts: path)) }
            #expect(error?.message.contains("is not in") == true)
        }
    }

    @Test func acceptNewAppendsAHashedLineThatOpenSSHFinds() async throws {
        try await withSSHServer { server in
            let path = server.directory + "/new/known_hosts"
            let first = try await server.connect(server.config(knownHosts: path, policy: .acceptNew))
            await first.close()
            let contents = try String(contentsOfFile: path, encoding: .utf8)
            #expect(contents.hasPrefix("|1|"))
            #expect(contents.split(separator: "\n").count == 1)
            let found = try runTool("/usr/bin/ssh-keygen", ["-F", "[127.0.0.1]:\(server.port)", "-f", path])
            #expect(found.stdout.contains(contents.trimmingCharacters(in: .newlines)))
            // Now known: strict works and nothing more is appended.
            let second = try await server.connect(server.config(knownHosts: path, policy: .strict))
            await second.close()
            #expect(try String(contentsOfFile: path, encoding: .utf8) == contents)
        }
    }

    @Test func acceptNewStillRefusesAChangedKey() async throws {
        try await withSSHServer { server in
            let other = try server.generateKey(name: "other_host_key", type: "ed25519", authorize: false)
            let otherLine = try String(contentsOfFile: other + ".pub", encoding: .utf8).split(separator: " ")
            let path = try write(["[127.0.0.1]:\(server.port) \(otherLine[0]) \(otherLine[1])"], in: server)
            let error = await #expect(throws: SSHError.self) {
                try await server.connect(server.config(knownHosts: path, policy: .acceptNew))
            }
            #expect(error?.message.contains("HAS CHANGED") == true)
        }
    }

    @Test func hashedEntryWrittenByOpenSSHMatches() async throws {
        try await withSSHServer { server in
            let path = try write([server.knownHostsLine], in: server)
            try runTool("/usr/bin/ssh-keygen", ["-H", "-f", path])
            #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix("|1|"))
            let connection = try await server.connect(server.config(knownHosts: path))
            await connection.close()
        }
    }

    @Test func unparseableLinesAreSkippedNotFatal() async throws {
        try await withSSHServer { server in
            let path = try write(["this is not a known_hosts line", "|1|broken", "[127.0.0.1]:\(server.port),other "
                + server.hostPublicKey.split(separator: " ").prefix(2).joined(separator: " ")], in: server)
            let connection = try await server.connect(server.config(knownHosts: path))
            await connection.close()
        }
    }

    @Test func keyOfAnotherTypeCountsAsUnknownNotAsMatch() async throws {
        try await withSSHServer { server in
            let ecdsa = try server.generateKey(name: "ecdsa_host_key", type: "ecdsa", authorize: false)
            let line = try String(contentsOfFile: ecdsa + ".pub", encoding: .utf8).split(separator: " ")
            let path = try write(["[127.0.0.1]:\(server.port) \(line[0]) \(line[1])"], in: server)
            let error = await #expect(throws: SSHError.self) { try await server.connect(server.config(knownHosts: path)) }
            #expect(error?.message.contains("only keys of other types") == true)
            #expect(error?.message.contains("ecdsa-sha2-nistp256 at \(path):1") == true)
        }
    }
}
