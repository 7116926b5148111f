import Foundation
import Testing

/// Runs a system tool (bash, dot, rsvg-convert, man, make…) found on PATH, for tests that check clusterctl's
/// output the way the real consumer of that output reads it.
enum ExternalTool {
    /// Fails the test with a pointer to scripts/install-deps when the tool is missing, instead of skipping:
    /// a skipped check would pass CI without ever having run.
    static func run(_ tool: String, _ arguments: [String], directory: URL? = nil,
                    environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation) throws -> CommandLineRun {
        guard let path = which(tool) else {
            Issue.record("\(tool) is not installed; run scripts/install-deps (as root) to install the test tools",
                         sourceLocation: sourceLocation)
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: tool])
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // stderr on its own thread: a tool filling it while we block on stdout would otherwise never finish.
        let group = DispatchGroup()
        let stderr = Collected()
        DispatchQueue.global().async(group: group) { stderr.data = err.fileHandleForReading.readDataToEndOfFile() }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return CommandLineRun(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                              stderr: String(decoding: stderr.data, as: UTF8.self))
    }

    /// Written by one reader thread, read only after it finished (group.wait()).
    private final class Collected: @unchecked Sendable { var data = Data() }

    static func which(_ tool: String) -> String? {
        if tool.contains("/") { return FileManager.default.isExecutableFile(atPath: tool) ? tool : nil }
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
