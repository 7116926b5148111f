import Foundation
@testable import SSH

/// A real OpenSSH sshd on 127.0.0.1 with its own port, config, host key, authorized_keys and known_hosts,
/// all in a scratch directory. Use `withSSHServer`, which stops it and removes the directory even when the
/// test fails.
final class TestSSHServer: @unchecked Sendable {
    let directory: String
    let port: Int
    let user: String
    /// The client key every default config uses (ed25519, authorized).
    let clientKey: String
    /// The server's ed25519 host public key line ("ssh-ed25519 AAAA... comment").
    let hostPublicKey: String
    /// A known_hosts file that lists this server correctly.
    let knownHostsPath: String
    private let daemon: Daemon

    init(sftp: Bool, logLevel: String = "VERBOSE") throws {
        directory = try makeTemporaryDirectory("clusterctl-sshd")
        user = String(cString: getpwuid(geteuid()).pointee.pw_name)
        let hostKey = directory + "/ssh_host_ed25519_key"
        try runTool("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey])
        hostPublicKey = try String(contentsOfFile: hostKey + ".pub", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        FileManager.default.createFile(atPath: directory + "/authorized_keys", contents: nil)
        clientKey = directory + "/id_ed25519"
        knownHostsPath = directory + "/known_hosts"
        // sshd refuses to start without its privilege separation directory (root only; Debian's is /run/sshd).
        if geteuid() == 0 { try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true) }
        let config = directory + "/sshd_config"
        try """
            ListenAddress 127.0.0.1
            HostKey \(hostKey)
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

            """.write(toFile: config, atomically: true, encoding: .utf8)
        var started: (Int, Daemon)?
        var lastLog = ""
        for _ in 0..<5 {
            let candidate = try freeLoopbackPort()
            let daemon = try Daemon(executable: "/usr/sbin/sshd",
                                    arguments: ["-D", "-e", "-f", config, "-p", String(candidate)],
                                    logFile: directory + "/sshd.log")
            if TestSSHServer.waitForBanner(port: candidate, daemon: daemon) {
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

    private static func waitForBanner(port: Int, daemon: Daemon) -> Bool {
        for _ in 0..<100 {
            if !daemon.alive { return false }
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
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

    func stop() {
        daemon.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The sshd log so far (for failure messages).
    var log: String { (try? String(contentsOfFile: directory + "/sshd.log", encoding: .utf8)) ?? "" }

    /// "[127.0.0.1]:PORT ssh-ed25519 AAAA...": this server's plain known_hosts line.
    var knownHostsLine: String {
        let fields = hostPublicKey.split(separator: " ")
        return "[127.0.0.1]:\(port) \(fields[0]) \(fields[1])"
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
        if authorize {
            let publicKey = try String(contentsOfFile: path + ".pub", encoding: .utf8)
            let handle = FileHandle(forWritingAtPath: directory + "/authorized_keys")!
            handle.seekToEndOfFile()
            handle.write(Data(publicKey.utf8))
            try handle.close()
        }
        return path
    }

    /// Strict host keys against this server's correct known_hosts, the default client key, no agent.
    func config(identityFiles: [String]? = nil, knownHosts: String? = nil,
                policy: HostKeyPolicy = .strict) -> SSHClientConfig {
        SSHClientConfig(host: "127.0.0.1", port: port, user: user, identityFiles: identityFiles ?? [clientKey],
                        knownHostsFile: knownHosts ?? knownHostsPath, hostKeyPolicy: policy, connectTimeout: 10,
                        useAgent: false)
    }

    func connect(_ config: SSHClientConfig? = nil) async throws -> SSHConnection {
        try await SSHConnection.connect(config ?? self.config())
    }
}

/// Starts an sshd for `body` and always stops it afterwards.
func withSSHServer<T>(sftp: Bool = true, logLevel: String = "VERBOSE",
                      _ body: (TestSSHServer) async throws -> T) async throws -> T {
    let server = try TestSSHServer(sftp: sftp, logLevel: logLevel)
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
