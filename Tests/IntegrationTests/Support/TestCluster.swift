import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// One namespace test cluster (Tests/Cluster/testcluster) for an integration test.
///
///     try await TestCluster.withCluster(memcache: 1, web: 2, other: 1) { cluster in
///         let out = try await cluster.ssh("web1", "rpm -q httpd")
///     }
///
/// There is one bridge and one address range per machine, so clusters are serialized: within this process
/// by `ClusterLock`, across processes (other test runs, other worktrees) by a flock held from `up` to `down`.
/// `withCluster` always calls `down`, also when the body throws or an expectation fails.
actor TestCluster {
    /// el5: namespaces looking like CentOS 5.5 (shims over the machine's binaries); plain: the machine's
    /// Debian tools in namespaces; debian12: a real Debian 12 booted with systemd under systemd-nspawn,
    /// installing real packages with apt from a private mirror on the cluster's bridge; el9 / el7: the same
    /// booted systemd looking like Rocky Linux 9.4 / CentOS 7 (real firewalld; simulated dnf/yum, rpm and
    /// SELinux installing Debian's daemons under EL's paths and units: Tests/Cluster/README.md).
    enum Profile: String, Sendable {
        case el5, plain, debian12, el9, el7

        /// Hosts with a real systemd as PID 1 (systemd-nspawn): they can reboot.
        var bootsSystemd: Bool { self == .debian12 || self == .el9 || self == .el7 }
    }

    struct Host: Sendable, Equatable {
        var name: String
        var address: String
        /// "memcache", "web", or none (an `other` host).
        var roles: [String]
        var profile: Profile = .el5
    }

    nonisolated let stateDirectory: String
    nonisolated let inventoryPath: String
    nonisolated let knownHostsPath: String
    nonisolated let identityPath: String
    nonisolated let hosts: [Host]
    /// How long `testcluster up` took (after the locks were acquired): for benchmarks and printing.
    nonisolated let upDuration: Duration
    private var sessionLock: SessionLock?

    /// Tests/Cluster/testcluster, found from this file's location.
    static let scriptPath: String = {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Cluster/testcluster").path
    }()
    static let defaultStateDirectory = "/tmp/clusterctl-testcluster"
    static let sessionLockPath = "/run/lock/clusterctl-testcluster.session.lock"

    private init(stateDirectory: String, hosts: [Host], upDuration: Duration, sessionLock: SessionLock) {
        self.stateDirectory = stateDirectory
        inventoryPath = stateDirectory + "/inventory.json"
        knownHostsPath = stateDirectory + "/known_hosts"
        identityPath = stateDirectory + "/id_ed25519"
        self.hosts = hosts
        self.upDuration = upDuration
        self.sessionLock = sessionLock
    }

    /// Starts a fresh cluster (tearing down whatever cluster exists). Call `down()` when done, or use
    /// `withCluster`. Skips the test when not root (fails under CI=true).
    /// `profile` is every host's; `memcacheProfile`, `webProfile` and `otherProfile` override it per role
    /// (e.g. an el5 memcache host with debian12 web hosts). The first debian12, el9 or el7 cluster on a
    /// machine builds the Debian base root and mirror, and the first el9/el7 cluster the EL system layer
    /// (a few minutes in all; `testcluster cache` does it ahead of time).
    static func up(memcache: Int, web: Int, other: Int = 0, profile: Profile = .el5,
                   memcacheProfile: Profile? = nil, webProfile: Profile? = nil, otherProfile: Profile? = nil,
                   reach: Reach = Reach(), sourceLocation: SourceLocation = #_sourceLocation) async throws -> TestCluster {
        try requireRoot(sourceLocation: sourceLocation)
        await ClusterLock.shared.acquire()
        let lock: SessionLock
        do {
            lock = try await SessionLock.acquire(path: sessionLockPath)
        } catch {
            await ClusterLock.shared.release()
            throw error
        }
        let state = defaultStateDirectory
        let result: ProcessOutput
        let clock = ContinuousClock(), start = clock.now
        do {
            result = try await runScript(["up", "--memcache", "\(memcache)", "--web", "\(web)",
                                          "--other", "\(other)", "--profile", profile.rawValue, "--state", state,
                                          "--memcache-profile", (memcacheProfile ?? profile).rawValue,
                                          "--web-profile", (webProfile ?? profile).rawValue,
                                          "--other-profile", (otherProfile ?? profile).rawValue] + reach.arguments)
        } catch {
            lock.release()
            await ClusterLock.shared.release()
            throw error
        }
        guard result.status == 0, let hosts = try? readHosts(state) else {
            _ = try? await runScript(["down", "--state", state])
            lock.release()
            await ClusterLock.shared.release()
            throw TestClusterError.scriptFailed("up", result)
        }
        return TestCluster(stateDirectory: state, hosts: hosts, upDuration: clock.now - start, sessionLock: lock)
    }

    /// Brings a cluster up, runs `body`, and always tears it down (also when `body` throws).
    static func withCluster<T: Sendable>(memcache: Int, web: Int, other: Int = 0, profile: Profile = .el5,
                                         memcacheProfile: Profile? = nil, webProfile: Profile? = nil,
                                         otherProfile: Profile? = nil, reach: Reach = Reach(),
                                         sourceLocation: SourceLocation = #_sourceLocation,
                                         _ body: (TestCluster) async throws -> T) async throws -> T {
        let cluster = try await up(memcache: memcache, web: web, other: other, profile: profile,
                                   memcacheProfile: memcacheProfile, webProfile: webProfile,
                                   otherProfile: otherProfile, reach: reach, sourceLocation: sourceLocation)
        let value: T
        do {
            value = try await body(cluster)
        } catch {
            try? await cluster.down()
            throw error
        }
        try await cluster.down()
        return value
    }

    /// Removes every namespace, link, mount, process and the state directory, then checks (still holding
    /// the locks, so no other cluster is starting) that nothing is left; throws if anything is.
    /// Safe to call twice.
    func down() async throws {
        guard let lock = sessionLock else { return }
        sessionLock = nil
        let result = try? await Self.runScript(["down", "--state", stateDirectory])
        let left = (try? await Self.leftovers(stateDirectory: stateDirectory)) ?? ["(leftover check failed to run)"]
        lock.release()
        await ClusterLock.shared.release()
        if let result, result.status != 0 { throw TestClusterError.scriptFailed("down", result) }
        if !left.isEmpty { throw TestClusterError.leftovers(left) }
    }

    /// Powers `host` (a debian12, el9 or el7 host) off and boots it again from the same disk, like a real reboot:
    /// enabled services come back, runtime state (e.g. iptables rules not saved) is gone. Returns when
    /// its sshd answers again, with how long that took.
    @discardableResult
    func reboot(_ host: String) async throws -> Duration {
        guard try self.host(host).profile.bootsSystemd else { throw TestClusterError.cannotReboot(host) }
        let clock = ContinuousClock(), start = clock.now
        let result = try await Self.runScript(["reboot", "--state", stateDirectory, host])
        if result.status != 0 { throw TestClusterError.scriptFailed("reboot \(host)", result) }
        return clock.now - start
    }

    /// What a cluster could leave on the machine: cct- network namespaces, cct links and the bridge,
    /// mounts from cct- sources or under the state dir, host processes, debian12 hosts' systemd-nspawn
    /// processes and cgroups, the apt mirror's HTTP server, the state dir itself.
    static func leftovers(stateDirectory: String = defaultStateDirectory) async throws -> [String] {
        var left: [String] = []
        let namespaces = try await runProcess("/usr/sbin/ip", ["netns", "list"]).stdout
        left += namespaces.split(separator: "\n").filter { $0.hasPrefix("cct-") }.map { "netns \($0)" }
        let links = try await runProcess("/usr/sbin/ip", ["-o", "link", "show"]).stdout
        left += links.split(separator: "\n").filter { $0.contains(": cct") }.map { "link \($0)" }
        let mounts = try await runProcess("/usr/bin/findmnt", ["-rn", "-o", "SOURCE,TARGET"]).stdout
        left += mounts.split(separator: "\n").filter { $0.hasPrefix("cct-") || $0.contains(stateDirectory) }
            .map { "mount \($0)" }
        // This checkout's host inits (another worktree's cluster is not ours to report).
        let hostInit = (scriptPath as NSString).deletingLastPathComponent + "/lib/host-init"
        let processes = try await runProcess("/usr/bin/pgrep", ["-af", hostInit]).stdout
        left += processes.split(separator: "\n").map { "process \($0)" }
        // debian12 hosts (any checkout's: the cct- machine names and cgroups are machine-wide) and the mirror.
        let nspawns = try await runProcess("/usr/bin/pgrep", ["-af", "systemd-nspawn"]).stdout
        left += nspawns.split(separator: "\n").filter { $0.contains("--machine=cct-") }.map { "process \($0)" }
        let servers = try await runProcess("/usr/bin/pgrep", ["-af", "http.server"]).stdout
        left += servers.split(separator: "\n").filter { $0.contains("clusterctl-testcluster") }.map { "process \($0)" }
        for root in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd"] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
            left += entries.filter { $0.hasPrefix("cct-") }.map { "cgroup \(root)/\($0)" }
        }
        left += try await reachLeftovers()
        if FileManager.default.fileExists(atPath: stateDirectory) { left.append("state dir \(stateDirectory)") }
        return left
    }

    nonisolated func host(_ name: String) throws -> Host {
        guard let host = hosts.first(where: { $0.name == name }) else { throw TestClusterError.noSuchHost(name) }
        return host
    }
    nonisolated func address(_ name: String) throws -> String { try host(name).address }
    nonisolated func hosts(withRole role: String) -> [Host] { hosts.filter { $0.roles.contains(role) } }

    /// Runs `command` on `host` with the OpenSSH client: strict host-key checking against the cluster's
    /// known_hosts, the cluster key, no agent, no config file.
    nonisolated func ssh(_ host: String, _ command: String, user: String = "root",
                         stdin: String? = nil) async throws -> ProcessOutput {
        let address = try address(host)
        return try await runProcess("/usr/bin/ssh", sshOptions() + proxyOptions(address) + ["\(user)@\(address)", command],
                                    stdin: stdin)
    }

    /// The OpenSSH client options every `ssh` call uses (also handy for scp or a custom known_hosts).
    nonisolated func sshOptions(knownHosts: String? = nil) -> [String] {
        ["-F", "/dev/null", "-i", identityPath, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
         "-o", "UserKnownHostsFile=\(knownHosts ?? knownHostsPath)", "-o", "GlobalKnownHostsFile=/dev/null",
         "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
         "-o", "LogLevel=ERROR"]
    }

    /// Runs `command` inside `host`'s namespaces with nsenter, without SSH (for when a test has cut SSH).
    nonisolated func exec(_ host: String, _ command: String) async throws -> ProcessOutput {
        _ = try self.host(host)
        let path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH; "
        return try await Self.runScript(["exec", "--state", stateDirectory, host, "/bin/sh", "-c", path + command])
    }

    static func runScript(_ arguments: [String]) async throws -> ProcessOutput {
        try await runProcess("/bin/bash", [scriptPath] + arguments, environment: ["CCT_SESSION_LOCK_HELD": "1"])
    }

    /// hosts.tsv ("NAME ADDRESS ROLES") and profiles.tsv ("NAME PROFILE").
    private static func readHosts(_ state: String) throws -> [Host] {
        let text = try String(contentsOfFile: state + "/hosts.tsv", encoding: .utf8)
        var profiles: [String: Profile] = [:]
        let profileText = (try? String(contentsOfFile: state + "/profiles.tsv", encoding: .utf8)) ?? ""
        for line in profileText.split(separator: "\n") {
            let f = line.split(separator: " ").map(String.init)
            if f.count == 2 { profiles[f[0]] = Profile(rawValue: f[1]) }
        }
        return text.split(separator: "\n").map { line in
            let f = line.split(separator: " ").map(String.init)
            return Host(name: f[0], address: f[1], roles: f[2] == "-" ? [] : f[2].split(separator: ",").map(String.init),
                        profile: profiles[f[0]] ?? .el5)
        }
    }

    /// Root is needed for namespaces and mounts. Not root: the test is skipped with a loud reason —
    /// except under CI=true, where a skipped integration test would hide missing coverage: it fails.
    static func requireRoot(sourceLocation: SourceLocation = #_sourceLocation) throws {
        if geteuid() == 0 { return }
        let reason = "the namespace test cluster needs root (network namespaces, overlay mounts, a bridge); " +
            "run: sudo swift test --filter IntegrationTests"
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            Issue.record("CI=true and not root: \(reason)", sourceLocation: sourceLocation)
            throw TestClusterError.notRoot
        }
        FileHandle.standardError.write(Data("*** SKIPPING integration test: \(reason)\n".utf8))
        try Test.cancel("SKIPPED (not root): \(reason)", sourceLocation: sourceLocation)
    }
}

enum TestClusterError: Error, CustomStringConvertible {
    case scriptFailed(String, ProcessOutput)
    case noSuchHost(String)
    case leftovers([String])
    case cannotReboot(String)
    case notRoot

    var description: String {
        switch self {
        case let .scriptFailed(command, out):
            "testcluster \(command) failed (exit \(out.status)):\n\(out.stdout)\(out.stderr)"
        case let .noSuchHost(name): "the test cluster has no host named \(name)"
        case let .leftovers(left): "testcluster down left things behind:\n" + left.joined(separator: "\n")
        case let .cannotReboot(name): "\(name) is not a debian12, el9 or el7 host: only those can reboot"
        case .notRoot: "not root"
        }
    }
}
