import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a finished child process left behind.
struct ProcessOutput: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum SubprocessError: Error, CustomStringConvertible {
    case launchFailed(String, String)
    var description: String {
        switch self {
        case let .launchFailed(path, why): "could not start \(path): \(why)"
        }
    }
}

/// Runs a program to completion without blocking the concurrency pool. Output goes to temporary files,
/// not pipes: the test cluster's hosts are daemons, and a pipe they inherited would never reach EOF.
///
/// The child is killed (SIGKILL) when the calling task is cancelled (e.g. a test's time limit) or after
/// `timeout` seconds, so a wedged child cannot hang a test run — and with it the cluster lock — forever.
func runProcess(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                stdin: String? = nil, timeout: Double = 600) async throws -> ProcessOutput {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("cct-proc-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let outURL = directory.appendingPathComponent("stdout")
    let errURL = directory.appendingPathComponent("stderr")
    let inURL = directory.appendingPathComponent("stdin")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: inURL.path, contents: Data((stdin ?? "").utf8))

    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    let outHandle = try FileHandle(forWritingTo: outURL)
    let errHandle = try FileHandle(forWritingTo: errURL)
    let inHandle = try FileHandle(forReadingFrom: inURL)
    defer { try? outHandle.close(); try? errHandle.close(); try? inHandle.close() }
    process.standardOutput = outHandle
    process.standardError = errHandle
    process.standardInput = inHandle

    let child = ChildPID()
    let timer = Task {
        try await Task.sleep(nanoseconds: UInt64(timeout * 1_000_000_000))
        child.kill()
    }
    defer { timer.cancel() }
    let status: Int32 = try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { finished in continuation.resume(returning: finished.terminationStatus) }
            do {
                try process.run()
                child.set(process.processIdentifier)
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: SubprocessError.launchFailed(executable, "\(error)"))
            }
        }
    } onCancel: {
        child.kill()
    }
    let stdout = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
    let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
    return ProcessOutput(status: status, stdout: stdout, stderr: stderr)
}

/// The running child's pid, shared with the cancellation handler and the timeout task.
private final class ChildPID: @unchecked Sendable {
    private let lock = NSLock()
    private var pid: pid_t = 0
    private var killed = false

    func set(_ value: pid_t) {
        lock.lock()
        defer { lock.unlock() }
        pid = value
        if killed { _ = Glibc.kill(value, SIGKILL) }
    }

    func kill() {
        lock.lock()
        defer { lock.unlock() }
        killed = true
        if pid > 0 { _ = Glibc.kill(pid, SIGKILL) }
    }
}
