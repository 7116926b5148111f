import Foundation
@testable import SSH

/// A real OpenSSH sshd on a loopback address (127.0.0.1 unless told) with its own port, config, host keys,
/// authorized_keys and known_hosts, all in a scratch directory. Use `withSSHServer`, which stops it and removes the directory even when the
/// test fails.
final class TestSSHServer: @unchecked Sendable {
    let directory: String
    /// The loopback address sshd listens on (127.0.0.0/8 all routes to lo on Linux).
    let address: String
    let port: Int
    let user: String
    /// The client key every default config uses (ed25519, authorized).
    let clientKey: String
    /// The server's ed25519 host public key line ("ssh-ed25519 AAAA... comment").
    let hostPublicKey: String
    /// A known_hosts file that lists this server correctly.
    let knownHostsPath: String
    private let daemon: Daemon

    /// `hostKeyTypes`: ssh-keygen -t names, in the order sshd's config lists them (ed25519 must be one:
    /// `hostPublicKey` and `knownHostsLine` are about it). `extraConfig`: more sshd_config lines.
    init(sftp: Bool, logLevel: String = "VERBOSE", address: String = "127.0.0.1",
         hostKeyTypes: [String] = ["ed25519"], extraConfig: String = "") throws {
        directory = try makeTemporaryDirectory("clusterctl-sshd")
        self.address = address
        user = String(cString: getpwuid(geteuid()).pointee.pw_name)
        for type in hostKeyTypes {
            try runTool("/usr/bin/ssh-keygen", ["-q", "-t", type, "-N", "", "-f", directory + "/ssh_host_\(type)_key"])
        }
        let hostKey = directory + "/ssh_host_ed25519_key"
        let hostKeyLines = hostKeyTypes.map { [directory] in "HostKey \(directory)/ssh_host_\($0)_key" }
        hostPublicKey = try String(contentsOfFile: hostKey + ".pub", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        FileManager.default.createFile(atPath: directory + "/authorized_keys", contents: nil)
        clientKey = directory + "/id_ed25519"
        knownHostsPath = directory + "/known_hosts"
        // sshd refuses to start without its privilege separation directory (root only; Debian's is /run/sshd).
        if geteuid() == 0 { try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true) }
        let config = directory + "/sshd_config"
        try """
            ListenAddress \(address)
            \(hostKeyLines.joined(separator: "\n"))
            PidFile \(directory)/sshd.pid
            AuthorizedKeysFile \(directory)/authorized_keys
            StrictModes no
            PubkeyAuthentication yes
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            PermitRootLogin prohibit-password
            MaxStartups 200
            MaxSessions 100
            LogLevel \(logLevel)
            \(sftp ? "Subsystem sftp internal-sftp" : "# no sftp subsystem: uploads must fall back to scp")
            \(extraConfig)

            """.write(toFile: config, atomically: true, encoding: .utf8)
        var started: (Int, Daemon)?
        var lastLog = ""
        for _ in 0..<5 {
            let candidate = try freeLoopbackPort()
            let daemon = try Daemon(executable: "/usr/sbin/sshd",
                                    arguments: ["-D", "-e", "-f", config, "-p", String(candidate)],
                                    logFile: directory + "/sshd.log")
            if TestSSHServer.waitForBanner(address: address, port: candidate, daemon: daemon) {
                started = (candidate, daemon)
                break
            }
            daemon.stop()
            lastLog = (try? String(contentsOfFile: directory + "/sshd.log", encoding: .utf8)) ?? ""
        }
        guard let (port, daemon) = started else {
            try? FileManager.default.removeItem(atPath: directory)
            throw ToolFailure(description: "sshd did not start: \(lastLog)")
        }
        self.port = port
        self.daemon = daemon
        try generateKey(name: "id_ed25519", type: "ed25519")
        try knownHostsLine.appending("\n").write(toFile: knownHostsPath, atomically: true, encoding: .utf8)
    }

    private static func waitForBanner(address: String, port: Int, daemon: Daemon) -> Bool {
        let listenAddress = address
        for _ in 0..<100 {
            if !daemon.alive { return false }
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr(listenAddress)
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            var banner = [UInt8](repeating: 0, count: 8)
            let count = connected ? read(fd, &banner, 8) : 0
            close(fd)
            if count >= 4 && String(decoding: banner[0..<4], as: UTF8.self) == "SSH-" { return true }
            usleep(50_000)
        }
        return false
    }

    /// Kills the sshd processes serving this server's connections (the listener stays): to the client, the
    /// connections die as if the network went away.
    func killConnections() {
        var parents: Set<pid_t> = [daemon.pid]
        var killed: Set<pid_t> = []
        for _ in 0..<3 {  // listener -> monitor -> unprivileged child
            let children = processParents().filter { parents.contains($0.value) }.map(\.key)
            for child in children where !killed.contains(child) {
                kill(child, SIGKILL)
                killed.insert(child)
            }
            parents.formUnion(children)
        }
    }

    private func processParents() -> [pid_t: pid_t] {
        var result: [pid_t: pid_t] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // "pid (comm) state ppid ...": comm may contain spaces, so split after its ")".
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = pid_t(fields[1]) { result[pid] = parent }
        }
        return result
    }

    func stop() {
        daemon.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The sshd log so far (for failure messages).
    var log: String { (try? String(contentsOfFile: directory + "/sshd.log", encoding: .utf8)) ?? "" }

    /// "[127.0.0.1]:PORT ssh-ed25519 AAAA...": this server's plain known_hosts line.
    var knownHostsLine: String {
        let fields = hostPublicKey.split(separator: " ")
        return "[\(address)]:\(port) \(fields[0]) \(fields[1])"
    }

    /// The plain known_hosts line for the host key of ssh-keygen type `type` ("ecdsa", "ed25519").
    func knownHostsLine(type: String) throws -> String {
        let fields = try String(contentsOfFile: directory + "/ssh_host_\(type)_key.pub", encoding: .utf8).split(separator: " ")
        return "[\(address)]:\(port) \(fields[0]) \(fields[1])"
    }

    /// Adds a public key file's key to this server's authorized_keys (a key shared by several servers).
    func authorize(publicKeyFile: String) throws {
        let publicKey = try String(contentsOfFile: publicKeyFile, encoding: .utf8)
        let handle = FileHandle(forWritingAtPath: directory + "/authorized_keys")!
        handle.seekToEndOfFile()
        handle.write(Data(publicKey.utf8))
        try handle.close()
    }

    /// The host key's fingerprint as OpenSSH prints it.
    func hostFingerprint() throws -> String {
        let output = try runTool("/usr/bin/ssh-keygen", ["-l", "-E", "sha256", "-f", directory + "/ssh_host_ed25519_key.pub"])
        return String(output.stdout.split(separator: " ")[1])
    }

    /// Generates a client key in the scratch directory (and authorizes it unless told not to).
    @discardableResult
    func generateKey(name: String, type: String, bits: Int? = nil, passphrase: String = "",
                     authorize: Bool = true) throws -> String {
        let path = directory + "/" + name
        var arguments = ["-q", "-t", type, "-N", passphrase, "-C", "\(name)@clusterctl-test", "-f", path]
        if let bits { arguments += ["-b", String(bits)] }
        try runTool("/usr/bin/ssh-keygen", arguments)
        if authorize { try self.authorize(publicKeyFile: path + ".pub") }
        return path
    }

    /// Strict host keys against this server's correct known_hosts, the default client key, no agent.
    func config(identityFiles: [String]? = nil, knownHosts: String? = nil,
                policy: HostKeyPolicy = .strict) -> SSHClientConfig {
        SSHClientConfig(host: address, port: port, user: user, identityFiles: identityFiles ?? [clientKey],
                        knownHostsFile: knownHosts ?? knownHostsPath, hostKeyPolicy: policy, connectTimeout: 10,
                        useAgent: false)
    }

    func connect(_ config: SSHClientConfig? = nil) async throws -> SSHConnection {
        try await SSHConnection.connect(config ?? self.config())
    }
}

/// Starts an sshd for `body` and always stops it afterwards.
func withSSHServer<T>(sftp: Bool = true, logLevel: String = "VERBOSE", address: String = "127.0.0.1",
                      hostKeyTypes: [String] = ["ed25519"], extraConfig: String = "",
                      _ body: (TestSSHServer) async throws -> T) async throws -> T {
    let server = try TestSSHServer(sftp: sftp, logLevel: logLevel, address: address, hostKeyTypes: hostKeyTypes,
                                   extraConfig: extraConfig)
    do {
        let result = try await body(server)
        server.stop()
        return result
    } catch {
        let log = server.log
        server.stop()
        throw ToolFailure(description: "\(error)\n--- sshd log ---\n\(log)")
    }
}

/// Starts `ssh-agent` on a socket in `directory` for `body` and always stops it afterwards.
func withSSHAgent<T>(directory: String, _ body: (String) async throws -> T) async throws -> T {
    let socketPath = directory + "/agent.sock"
    let agent = try Daemon(executable: "/usr/bin/ssh-agent", arguments: ["-D", "-a", socketPath],
                           logFile: directory + "/agent.log")
    defer { agent.stop() }
    for _ in 0..<100 where !FileManager.default.fileExists(atPath: socketPath) { usleep(20_000) }
    return try await body(socketPath)
}
