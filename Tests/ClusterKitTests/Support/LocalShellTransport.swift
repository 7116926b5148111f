import ClusterKit
import Foundation

/// Runs commands on this machine with /bin/sh: lets unit tests execute the real remote scripts (probes, PHP
/// one-liners) against real local programs without SSH. Uploads write local files.
struct LocalShellTransport: HostTransport {
    /// Extra environment, e.g. a PATH that hides tools to simulate a bare host.
    var environment: [String: String] = [:]

    func run(_ command: String, stdin: [UInt8]) async throws -> CommandResult {
        // Blocking pipe I/O stays off the Swift concurrency pool (2 threads on a 2-core machine): GCD threads.
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try runBlocking(command, stdin: stdin) })
            }
        }
    }

    /// stdin, stdout and stderr are temporary files, not pipes: a daemon the command starts may inherit the
    /// descriptors and keep a pipe open forever, while a file is complete as soon as the shell exits.
    private func runBlocking(_ command: String, stdin: [UInt8]) throws -> CommandResult {
        let base = NSTemporaryDirectory() + "cct-local-\(UUID().uuidString)"
        defer { for s in [".in", ".out", ".err"] { try? FileManager.default.removeItem(atPath: base + s) } }
        for (suffix, contents) in [(".in", Data(stdin)), (".out", Data()), (".err", Data())] {
            guard FileManager.default.createFile(atPath: base + suffix, contents: contents) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: base + suffix])
            }
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: base + ".in"))
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".out"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".err"))
        try process.run()
        process.waitUntilExit()
        let out = try Data(contentsOf: URL(fileURLWithPath: base + ".out"))
        let err = try Data(contentsOf: URL(fileURLWithPath: base + ".err"))
        return CommandResult(stdout: Array(out), stderr: Array(err), exitStatus: process.terminationStatus)
    }

    func upload(_ data: [UInt8], to path: String, mode: Int32) async throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(data), attributes: [.posixPermissions: Int(mode)]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }

    func close() async {}
}
