import Foundation
import Testing
@testable import SSH

/// Jump hosts against real sshds on loopback: the bastion on 127.0.0.1, targets on 127.0.0.2 and up. Every
/// server authorizes the bastion's client key, and one known_hosts file lists the servers a test trusts.
@Suite("jump hosts (ProxyJump) against real sshds")
struct JumpHostTests {
    /// `targets` sshds on 127.0.0.2 behind one bastion; `body` gets the bastion, the targets and a config maker.
    private func withBastion(targets count: Int = 1, bastionConfig: String = "", trustBastion: Bool = true,
                             _ body: (TestSSHServer, [TestSSHServer], (TestSSHServer) -> SSHClientConfig) async throws -> Void)
        async throws {
        try await withSSHServer(extraConfig: bastionConfig) { bastion in
            var targets: [TestSSHServer] = []
            defer { targets.forEach { $0.stop() } }
            for _ in 0..<count {
                let target = try TestSSHServer(sftp: true, address: "127.0.0.2")
                targets.append(target)
                try target.authorize(publicKeyFile: bastion.clientKey + ".pub")
            }
            let knownHosts = bastion.directory + "/jump_known_hosts"
            let lines = (trustBastion ? [bastion.knownHostsLine] : []) + targets.map(\.knownHostsLine)
            try (lines.joined(separator: "\n") + "\n").write(toFile: knownHosts, atomically: true, encoding: .utf8)
            let makeConfig = { (target: TestSSHServer) in
                var config = bastion.config(knownHosts: knownHosts)
                config.host = target.address
                config.port = target.port
                config.jumpHosts = [JumpHost(host: bastion.address, port: bastion.port)]
                return config
            }
            do {
                try await body(bastion, targets, makeConfig)
            } catch {
                throw ToolFailure(description: "\(error)\n--- target logs ---\n" + targets.map(\.log).joined())
            }
        }
    }

    private func logins(_ server: TestSSHServer) -> Int {
        server.log.components(separatedBy: "Accepted publickey").count - 1
    }

    @Test func execAndUploadGoThroughTheBastion() async throws {
        try await withBastion { bastion, targets, makeConfig in
            let target = targets[0]
            let connection = try await SSHConnection.connect(makeConfig(target))
            // sshd on the target sees the bastion's sshd as its client: our process has no socket to it.
            let seen = String(decoding: try await connection.exec("echo $SSH_CONNECTION").stdout, as: UTF8.self)
            #expect(seen.hasSuffix(" 127.0.0.2 \(target.port)\n"))
            #expect(try !processHasTCPConnection(to: "127.0.0.2", port: target.port))
            #expect(try tcpConnectionExists(to: "127.0.0.2", port: target.port))
            // Enough data both ways to fill channel windows and the socketpair buffers many times.
            let payload = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
            let path = target.directory + "/uploaded"
            try await connection.upload(payload, to: path, mode: 0o640)
            #expect(FileManager.default.contents(atPath: path).map { [UInt8]($0) } == payload)
            let big = try await connection.exec("head -c 5000000 /dev/zero; echo err >&2", stdin: payload)
            #expect(big.stdout.count == 5_000_000 && big.stderr == Array("err\n".utf8))
            let echoed = try await connection.exec("cat", stdin: payload)
            #expect(echoed.stdout == payload)
            await connection.close()
            #expect(logins(bastion) == 1 && logins(target) == 1)
        }
    }

    @Test func tenTargetsShareOneBastionConnection() async throws {
        try await withBastion(targets: 10) { bastion, targets, makeConfig in
            let configs = targets.map(makeConfig)
            let connections = try await withThrowingTaskGroup(of: SSHConnection.self) { group in
                for config in configs { group.addTask { try await SSHConnection.connect(config) } }
                return try await group.reduce(into: [SSHConnection]()) { $0.append($1) }
            }
            let ports = try await withThrowingTaskGroup(of: String.self) { group in
                for connection in connections {
                    group.addTask { String(decoding: try await connection.exec("echo $SSH_CONNECTION").stdout, as: UTF8.self) }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert(String($1.split(separator: " ")[3])) }
            }
            #expect(ports == Set(targets.map { "\($0.port)\n" }))
            #expect(logins(bastion) == 1, "bastion log:\n\(bastion.log)")
            #expect(targets.allSatisfy { logins($0) == 1 })
            for connection in connections { await connection.close() }
            // The last one out closed the bastion connection: the next target needs a new login.
            let again = try await SSHConnection.connect(configs[0])
            #expect(try await again.exec("true").exitStatus == 0)
            await again.close()
            #expect(logins(bastion) == 2)
        }
    }

    @Test func concurrentBulkTransfersThroughOneBastionStayIntact() async throws {
        try await withBastion(targets: 4) { bastion, targets, makeConfig in
            let configs = targets.map(makeConfig)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, config) in configs.enumerated() {
                    group.addTask {
                        let connection = try await SSHConnection.connect(config)
                        // Two sessions' worth of traffic per target at once, in both directions.
                        let payload = (0..<2_000_000).map { UInt8(truncatingIfNeeded: $0 &* (index + 7) &+ $0 >> 11) }
                        async let echoed = connection.exec("cat", stdin: payload)
                        async let counted = connection.exec("head -c 4000000 /dev/urandom | wc -c")
                        let (echo, count) = try await (echoed, counted)
                        #expect(echo.stdout == payload)
                        #expect(String(decoding: count.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "4000000")
                        await connection.close()
                    }
                }
                try await group.waitForAll()
            }
            #expect(logins(bastion) == 1)
        }
    }

    @Test func bastionWithAnUnknownHostKeyIsRefused() async throws {
        try await withBastion(trustBastion: false) { bastion, targets, makeConfig in
            let error = await #expect(throws: SSHError.self) { try await SSHConnection.connect(makeConfig(targets[0])) }
            #expect(error?.step == .hostKey)
            #expect(error?.host == "127.0.0.2" && error?.port == targets[0].port)
            #expect(error?.message.contains("via jump host 127.0.0.1:\(bastion.port)") == true)
            #expect(error?.message.contains("[127.0.0.1]:\(bastion.port) is not in") == true)
            #expect(logins(bastion) == 0 && logins(targets[0]) == 0)
        }
    }

    @Test func forwardingRefusedByTheBastionIsAConnectError() async throws {
        try await withBastion(bastionConfig: "AllowTcpForwarding no") { _, targets, makeConfig in
            let error = await #expect(throws: SSHError.self) { try await SSHConnection.connect(makeConfig(targets[0])) }
            #expect(error?.step == .connect)
            #expect(error?.message.contains("could not open a channel to 127.0.0.2:\(targets[0].port)") == true)
            #expect(error?.message.contains("prohibited") == true)
        }
    }

    @Test func closedPortBehindTheBastionLeavesTheBastionUsable() async throws {
        try await withBastion { bastion, targets, makeConfig in
            let first = try await SSHConnection.connect(makeConfig(targets[0]))
            var closed = makeConfig(targets[0])
            closed.port = try freeLoopbackPort()
            let error = await #expect(throws: SSHError.self) { try await SSHConnection.connect(closed) }
            #expect(error?.step == .connect)
            #expect(error?.message.contains("connect failed") == true)
            #expect(try await first.exec("echo still").stdout == Array("still\n".utf8))
            await first.close()
            #expect(logins(bastion) == 1)
        }
    }

    @Test func aDeadBastionConnectionFailsItsSessionsAndIsReplaced() async throws {
        try await withBastion { bastion, targets, makeConfig in
            let connection = try await SSHConnection.connect(makeConfig(targets[0]))
            bastion.killConnections()
            let started = Date()
            let error = await #expect(throws: SSHError.self) { try await connection.exec("sleep 30") }
            #expect(error?.step == .exec)
            #expect(Date().timeIntervalSince(started) < 10)
            // The dead connection is not handed out again: a new session logs in to the bastion anew.
            let again = try await SSHConnection.connect(makeConfig(targets[0]))
            #expect(try await again.exec("echo ok").stdout == Array("ok\n".utf8))
            await again.close()
            await connection.close()
            #expect(logins(bastion) == 2)
        }
    }

    @Test func aBastionThatDiedWhileIdleIsReplacedOnTheNextConnect() async throws {
        try await withBastion { bastion, targets, makeConfig in
            // A keeps its lease but its forward ends (its target's sshd dies): the bastion has no channel left.
            let holder = try await SSHConnection.connect(makeConfig(targets[0]))
            targets[0].killConnections()
            _ = try? await holder.exec("true")
            bastion.killConnections()
            try await Task.sleep(nanoseconds: 200_000_000)
            let connection = try await SSHConnection.connect(makeConfig(targets[0]))
            #expect(try await connection.exec("echo ok").stdout == Array("ok\n".utf8))
            await connection.close()
            await holder.close()
            #expect(logins(bastion) == 2)
        }
    }

    @Test func anIdleJumpConnectionDoesNotSpin() async throws {
        try await withBastion { _, targets, makeConfig in
            let connection = try await SSHConnection.connect(makeConfig(targets[0]))
            _ = try await connection.exec("true")
            let before = processCPUSeconds()
            try await Task.sleep(nanoseconds: 2_000_000_000)
            #expect(processCPUSeconds() - before < 0.3)
            await connection.close()
        }
    }

    @Test func theBastionAuthenticatesWithTheAgentOrItsOwnKeyLikeAnyHost() async throws {
        try await withBastion { bastion, targets, makeConfig in
            // The bastion now takes only the agent's key or its own; the target only the default client key.
            let agentKey = try bastion.generateKey(name: "agent_key", type: "ed25519", authorize: false)
            let ownKey = try bastion.generateKey(name: "bastion_only", type: "ecdsa", authorize: false)
            let keys = try [agentKey, ownKey].map { try String(contentsOfFile: $0 + ".pub", encoding: .utf8) }
            try keys.joined().write(toFile: bastion.directory + "/authorized_keys", atomically: true, encoding: .utf8)
            try await withSSHAgent(directory: bastion.directory) { socket in
                try runTool("/usr/bin/ssh-add", [agentKey], environment: ["SSH_AUTH_SOCK": socket])
                var config = makeConfig(targets[0])
                config.useAgent = true
                config.agentSocket = socket
                let viaAgent = try await SSHConnection.connect(config)
                #expect(try await viaAgent.exec("true").exitStatus == 0)
                await viaAgent.close()
            }
            var config = makeConfig(targets[0])
            config.jumpHosts[0].identityFiles = [ownKey]
            let viaOwnKey = try await SSHConnection.connect(config)
            await viaOwnKey.close()
            // Without either, the bastion refuses, and the error says where it failed.
            let error = await #expect(throws: SSHError.self) { try await SSHConnection.connect(makeConfig(targets[0])) }
            #expect(error?.step == .auth)
            #expect(error?.message.contains("via jump host 127.0.0.1:\(bastion.port): no key was accepted") == true)
            #expect(logins(bastion) == 2)
        }
    }

    @Test func twoHops() async throws {
        try await withBastion { first, targets, makeConfig in
            let second = try TestSSHServer(sftp: true, address: "127.0.0.3")
            defer { second.stop() }
            try second.authorize(publicKeyFile: first.clientKey + ".pub")
            var config = makeConfig(targets[0])
            let knownHosts = try String(contentsOfFile: config.knownHostsFile, encoding: .utf8) + second.knownHostsLine + "\n"
            try knownHosts.write(toFile: config.knownHostsFile, atomically: true, encoding: .utf8)
            config.jumpHosts.append(JumpHost(host: second.address, port: second.port))
            let connection = try await SSHConnection.connect(config)
            let seen = String(decoding: try await connection.exec("echo $SSH_CONNECTION").stdout, as: UTF8.self)
            #expect(seen.hasSuffix(" 127.0.0.2 \(targets[0].port)\n"))
            // The second hop is reached through the first: nothing of ours connects to it either.
            #expect(try !processHasTCPConnection(to: "127.0.0.3", port: second.port))
            try await connection.upload(Array("two hops\n".utf8), to: targets[0].directory + "/hops", mode: 0o600)
            #expect(try await connection.exec("cat \(targets[0].directory)/hops").stdout == Array("two hops\n".utf8))
            await connection.close()
            #expect(logins(first) == 1 && logins(second) == 1 && logins(targets[0]) == 1)
        }
    }

    @Test func jumpHostSyntax() throws {
        #expect(try JumpHost(parsing: "bastion") == JumpHost(host: "bastion"))
        #expect(try JumpHost(parsing: "admin@bastion:2222") == JumpHost(host: "bastion", port: 2222, user: "admin"))
        #expect(try JumpHost(parsing: "ssh://ops@10.0.0.1:22/") == JumpHost(host: "10.0.0.1", user: "ops"))
        #expect(try JumpHost(parsing: "me@[fd00::1]:2200") == JumpHost(host: "fd00::1", port: 2200, user: "me"))
        #expect(try JumpHost(parsing: "fd00::1") == JumpHost(host: "fd00::1"))
        #expect(try JumpHost.parseList("a@one:1,two").map(\.description) == ["a@one:1", "two"])
        #expect(try JumpHost.parseList("none").isEmpty && JumpHost.parseList("").isEmpty)
        #expect(throws: JumpHostSyntaxError.self) { try JumpHost(parsing: "host:port") }
        #expect(throws: JumpHostSyntaxError.self) { try JumpHost(parsing: "@host") }
        #expect(throws: JumpHostSyntaxError.self) { try JumpHost(parsing: "host:70000") }
    }
}

/// /proc/net/tcp's form of an IPv4 endpoint: the address as a little-endian hex word, then the port.
private func procEndpoint(_ address: String, _ port: Int) -> String {
    let octets = address.split(separator: ".").compactMap { UInt8($0) }
    return octets.reversed().map { String(format: "%02X", $0) }.joined() + String(format: ":%04X", port)
}

/// Socket inodes of established TCP connections to `address`:`port` on this machine.
private func tcpInodes(to address: String, port: Int) throws -> Set<String> {
    // Read to the end: procfs files report size 0, and a one-shot read gets only the first page.
    guard let handle = FileHandle(forReadingAtPath: "/proc/net/tcp") else { throw ToolFailure(description: "no /proc/net/tcp") }
    defer { try? handle.close() }
    let table = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
    let remote = procEndpoint(address, port)
    return Set(table.split(separator: "\n").dropFirst().compactMap { line -> String? in
        let fields = line.split(separator: " ")
        return fields.count > 9 && fields[2] == remote && fields[3] == "01" ? String(fields[9]) : nil
    })
}

private func tcpConnectionExists(to address: String, port: Int) throws -> Bool {
    try !tcpInodes(to: address, port: port).isEmpty
}

/// Whether this test process itself holds a TCP connection to `address`:`port`.
private func processHasTCPConnection(to address: String, port: Int) throws -> Bool {
    let inodes = try tcpInodes(to: address, port: port)
    let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")
    return fds.contains { fd in
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + fd),
              target.hasPrefix("socket:[") else { return false }
        return inodes.contains(String(target.dropFirst(8).dropLast()))
    }
}

/// User plus system CPU time of this process so far.
private func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let seconds = { (time: timeval) in Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}
