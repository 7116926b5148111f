import Foundation
import Testing
@testable import SSH

@Suite("auth and connecting against a real sshd")
struct AuthAndConnectTests {
    @Test func agentAuthentication() async throws {
        try await withSSHServer { server in
            let agentKey = try server.generateKey(name: "agent_key", type: "ed25519")
            let wrong = try server.generateKey(name: "wrong_key", type: "ed25519", authorize: false)
            try await withSSHAgent(directory: server.directory) { socket in
                try runTool("/usr/bin/ssh-add", [agentKey], environment: ["SSH_AUTH_SOCK": socket])
                // The only identity file is not authorized: success proves the agent was used.
                var config = server.config(identityFiles: [wrong])
                config.useAgent = true
                config.agentSocket = socket
                let connection = try await server.connect(config)
                await connection.close()
                #expect(server.log.contains("Accepted publickey"))
            }
        }
    }

    @Test func passphraseFromTheEnvironment() async throws {
        try await withSSHServer { server in
            let key = try server.generateKey(name: "id_env_locked", type: "ecdsa", passphrase: "from env")
            // Only this test reads the variable (others pass passphrases in the config, which wins).
            setenv("CLUSTERCTL_SSH_PASSPHRASE", "from env", 1)
            defer { unsetenv("CLUSTERCTL_SSH_PASSPHRASE") }
            let connection = try await server.connect(server.config(identityFiles: [key]))
            await connection.close()
        }
    }

    @Test func keepalivesAreSentWhileIdleAndDuringLongCommands() async throws {
        try await withSSHServer(logLevel: "DEBUG1") { server in
            var config = server.config()
            config.keepaliveInterval = 1
            let connection = try await server.connect(config)
            // libssh2 sends "keepalive@libssh2.org" global requests; sshd logs each at DEBUG1.
            let before = server.log.components(separatedBy: "keepalive@libssh2.org").count
            try await Task.sleep(nanoseconds: 2_500_000_000)
            let idle = server.log.components(separatedBy: "keepalive@libssh2.org").count
            #expect(idle > before, "no keepalive while idle")
            #expect(try await connection.exec("sleep 3; echo done").stdout == Array("done\n".utf8))
            #expect(server.log.components(separatedBy: "keepalive@libssh2.org").count > idle,
                    "no keepalive during a long command")
            await connection.close()
        }
    }

    @Test func ecdsaKey() async throws {
        try await withSSHServer { server in
            let key = try server.generateKey(name: "id_ecdsa", type: "ecdsa")
            let connection = try await server.connect(server.config(identityFiles: [key]))
            await connection.close()
        }
    }

    @Test func passphraseProtectedKey() async throws {
        try await withSSHServer { server in
            let key = try server.generateKey(name: "id_locked", type: "ed25519", passphrase: "correct horse")
            var config = server.config(identityFiles: [key])
            config.passphrase = "wrong"
            let error = await #expect(throws: SSHError.self) { try await server.connect(config) }
            #expect(error?.step == .auth)
            #expect(error?.message.contains(key) == true)
            config.passphrase = "correct horse"
            let connection = try await server.connect(config)
            await connection.close()
        }
    }

    @Test func unauthorizedKeyIsAnAuthErrorListingWhatWasTried() async throws {
        try await withSSHServer { server in
            let wrong = try server.generateKey(name: "wrong_key", type: "ed25519", authorize: false)
            let error = await #expect(throws: SSHError.self) {
                try await server.connect(server.config(identityFiles: [wrong, server.directory + "/missing"]))
            }
            #expect(error?.step == .auth)
            #expect(error?.message.contains(wrong) == true)
            #expect(error?.message.contains("missing: cannot read") == true)
            #expect(error?.message.contains("ssh-rsa") == false)
        }
    }

    @Test func rsaKeyRefusalIsExplained() async throws {
        try await withSSHServer { server in
            let rsa = try server.generateKey(name: "id_rsa", type: "rsa", bits: 2048)
            let error = await #expect(throws: SSHError.self) { try await server.connect(server.config(identityFiles: [rsa])) }
            #expect(error?.step == .auth)
            #expect(error?.message.contains("server refused ssh-rsa signatures; use an ed25519 or ECDSA key") == true)
        }
    }

    @Test func connectionRefused() async throws {
        let port = try freeLoopbackPort()
        let config = SSHClientConfig(host: "127.0.0.1", port: port, user: "nobody", knownHostsFile: "/nonexistent",
                                     useAgent: false)
        let error = await #expect(throws: SSHError.self) { try await SSHConnection.connect(config) }
        #expect(error?.step == .connect)
        #expect(error?.message.contains("refused") == true)
        #expect(error?.description.contains("127.0.0.1:\(port)") == true)
    }

    @Test func silentServerTimesOutInTheHandshake() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        let config = SSHClientConfig(host: "127.0.0.1", port: listener.port, user: "nobody",
                                     knownHostsFile: "/nonexistent", connectTimeout: 1, useAgent: false)
        let error = await #expect(throws: SSHError.self) { try await SSHConnection.connect(config) }
        #expect(error?.step == .handshake)
        #expect(error?.message.contains("timed out after 1s") == true)
    }

    @Test func fiftyConcurrentSessions() async throws {
        try await withSSHServer { server in
            let config = server.config()
            let outputs = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<50 {
                    group.addTask {
                        let connection = try await SSHConnection.connect(config)
                        let result = try await connection.exec("echo \(index)")
                        await connection.close()
                        return String(decoding: result.stdout, as: UTF8.self)
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(Set(outputs) == Set((0..<50).map { "\($0)\n" }))
        }
    }

    @Test func oneConnectionServesConcurrentCallers() async throws {
        try await withSSHServer { server in
            let connection = try await server.connect()
            let results = try await withThrowingTaskGroup(of: Int32.self) { group in
                for index in 0..<10 { group.addTask { try await connection.exec("exit \(index)").exitStatus } }
                return try await group.reduce(into: Set<Int32>()) { $0.insert($1) }
            }
            #expect(results == Set(0..<10))
            await connection.close()
        }
    }
}
