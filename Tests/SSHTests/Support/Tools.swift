import Foundation

struct ToolResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

struct ToolFailure: Error, CustomStringConvertible {
    var description: String
}

/// Starts `path` with `arguments`, stdin from /dev/null and stdout/stderr to `outputFile` (or /dev/null).
/// posix_spawn rather than Foundation's Process: on Linux, Process reaps children one at a time and a
/// long-running daemon's blocking wait stalls every later `waitUntilExit`.
func spawnProcess(_ path: String, _ arguments: [String], environment: [String: String] = [:],
                  stdoutFile: String? = nil, stderrFile: String? = nil) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdoutFile ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, stderrFile ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
    let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0)=\($1)" }
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    let envp = env.map { strdup($0) } + [nil]
    defer { (argv + envp).forEach { free($0) } }
    // Children inherit the spawning thread's signal mask, and Dispatch's threads block signals:
    // without this, SIGTERM would never reach the daemon.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    var allSignals = sigset_t()
    sigfillset(&allSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    posix_spawnattr_setsigdefault(&attributes, &allSignals)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var pid: pid_t = 0
    let status = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
    guard status == 0 else { throw ToolFailure(description: "cannot start \(path): \(String(cString: strerror(status)))") }
    return pid
}

/// Waits for `pid` and returns its exit status (128+signal when killed).
func waitForExit(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    if status & 0x7f == 0 { return (status >> 8) & 0xff }
    return 128 + (status & 0x7f)
}

/// Runs a program to completion (ssh-keygen, ssh-add, ...) and returns its output.
@discardableResult
func runTool(_ path: String, _ arguments: [String], environment: [String: String] = [:],
             check: Bool = true) throws -> ToolResult {
    let scratch = try makeTemporaryDirectory("clusterctl-tool")
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    let pid = try spawnProcess(path, arguments, environment: environment, stdoutFile: scratch + "/out",
                               stderrFile: scratch + "/err")
    let status = waitForExit(pid)
    let read = { (name: String) in (try? String(contentsOfFile: scratch + "/" + name, encoding: .utf8)) ?? "" }
    let result = ToolResult(status: status, stdout: read("out"), stderr: read("err"))
    if check && result.status != 0 {
        throw ToolFailure(description: "\(path) \(arguments.joined(separator: " ")) exited \(result.status): "
            + result.stderr)
    }
    return result
}

/// A background daemon (sshd, ssh-agent), plus a watchdog sh that kills it if this test process dies
/// without calling `stop()` (a crashed test must not leave daemons behind).
final class Daemon: @unchecked Sendable {
    let pid: pid_t
    private let watchdog: pid_t
    private var exited = false

    init(executable: String, arguments: [String], logFile: String) throws {
        pid = try spawnProcess(executable, arguments, stdoutFile: logFile, stderrFile: logFile)
        watchdog = try spawnProcess("/bin/sh", ["-c", "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; kill -9 \(pid)"])
    }

    /// Still running (reaps it if it has exited).
    var alive: Bool {
        if exited { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { exited = true }
        return !exited
    }

    func stop() {
        if alive {
            kill(pid, SIGTERM)
            _ = waitForExit(pid)
            exited = true
        }
        kill(watchdog, SIGKILL)
        _ = waitForExit(watchdog)
    }
}

/// A unique scratch directory, removed by `remove()`.
func makeTemporaryDirectory(_ prefix: String) throws -> String {
    var template = Array((NSTemporaryDirectory() + "/\(prefix).XXXXXX").utf8CString)
    guard let result = mkdtemp(&template) else { throw ToolFailure(description: "mkdtemp failed") }
    return String(cString: result)
}

/// A loopback port nobody listens on right now.
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
        }
    }
    guard ok else { throw ToolFailure(description: "cannot bind a loopback port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A TCP listener on loopback that accepts connections and never says anything (no SSH banner): the
/// handshake timeout test connects here.
final class SilentListener: @unchecked Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else {
            Glibc.close(fd)
            throw ToolFailure(description: "cannot listen on loopback")
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        // The kernel completes TCP handshakes for the backlog without accept(); nothing is ever sent.
    }

    func close() { Glibc.close(fd) }
}
