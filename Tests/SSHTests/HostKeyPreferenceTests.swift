import Foundation
import Testing
@testable import SSH

/// A server with both an ECDSA and an ed25519 host key: libssh2 1.10 alone picks ECDSA; the client must ask
/// for the types known_hosts holds, as OpenSSH does.
@Suite("host key type preference from known_hosts against a real sshd")
struct HostKeyPreferenceTests {
    private func write(_ lines: [String], in server: TestSSHServer, name: String) throws -> String {
        let path = server.directory + "/" + name
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func onlyTheEd25519KeyKnownConnects() async throws {
        try await withSSHServer(hostKeyTypes: ["ecdsa", "ed25519"]) { server in
            let path = try write([try server.knownHostsLine(type: "ed25519")], in: server, name: "kh_ed25519")
            let connection = try await server.connect(server.config(knownHosts: path))
            #expect(try await connection.exec("true").exitStatus == 0)
            await connection.close()
        }
    }

    @Test func onlyTheECDSAKeyKnownConnects() async throws {
        try await withSSHServer(hostKeyTypes: ["ed25519", "ecdsa"]) { server in
            let path = try write([try server.knownHostsLine(type: "ecdsa")], in: server, name: "kh_ecdsa")
            let connection = try await server.connect(server.config(knownHosts: path))
            await connection.close()
        }
    }

    @Test func hashedEd25519EntryIsPreferredToo() async throws {
        try await withSSHServer(hostKeyTypes: ["ecdsa", "ed25519"]) { server in
            let path = try write([try server.knownHostsLine(type: "ed25519")], in: server, name: "kh_hashed")
            try runTool("/usr/bin/ssh-keygen", ["-H", "-f", path])
            let connection = try await server.connect(server.config(knownHosts: path))
            await connection.close()
        }
    }

    @Test func unknownHostIsStillRefusedUnderStrictChecking() async throws {
        try await withSSHServer(hostKeyTypes: ["ecdsa", "ed25519"]) { server in
            // Another host's entry only: nothing known for this one, libssh2's own order applies.
            let other = try server.knownHostsLine(type: "ed25519").replacingOccurrences(of: "]:", with: "]:1")
            let path = try write([other], in: server, name: "kh_other")
            let error = await #expect(throws: SSHError.self) { try await server.connect(server.config(knownHosts: path)) }
            #expect(error?.step == .hostKey)
            #expect(error?.message.contains("is not in \(path)") == true)
        }
    }

    @Test func aChangedKeyOfTheKnownTypeIsStillAMismatch() async throws {
        try await withSSHServer(hostKeyTypes: ["ecdsa", "ed25519"]) { server in
            let other = try server.generateKey(name: "other_host_key", type: "ed25519", authorize: false)
            let fields = try String(contentsOfFile: other + ".pub", encoding: .utf8).split(separator: " ")
            let path = try write(["[\(server.address)]:\(server.port) \(fields[0]) \(fields[1])"], in: server,
                                 name: "kh_changed")
            let error = await #expect(throws: SSHError.self) { try await server.connect(server.config(knownHosts: path)) }
            // The ed25519 key was asked for and presented, and it is not the recorded one.
            #expect(error?.message.contains("HAS CHANGED") == true)
        }
    }

    @Test func orderPutsKnownTypesFirstInLibssh2Order() {
        let supported = ["ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ssh-ed25519", "ssh-rsa"]
        #expect(HostKeyPreference.order(supported: supported, known: ["ssh-rsa", "ssh-ed25519"])
            == ["ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384"])
        #expect(HostKeyPreference.order(supported: supported, known: ["ssh-dss"]) == nil)
        #expect(HostKeyPreference.order(supported: supported, known: []) == nil)
    }
}
