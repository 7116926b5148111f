import Foundation
import Testing

// Helpers every integration test of the CLI uses (PlanApplyTests, FirewallTests).

/// A command on a host over OpenSSH (not clusterctl's SSH); its stdout, failing the test on exit status ≠ 0.
@discardableResult
func run(_ cluster: TestCluster, _ host: String, _ command: String) async throws -> String {
    let output = try await cluster.ssh(host, command)
    try #require(output.status == 0, "\(host): \(command): \(output.stderr)")
    return output.stdout
}

/// The built clusterctl executable (next to the test bundle in .build/<configuration>/), stdin not a TTY.
func clusterctl(_ arguments: [String]) async throws -> ProcessOutput {
    let path = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("clusterctl").path
    try #require(FileManager.default.isExecutableFile(atPath: path), "\(path) missing: swift build --build-tests")
    return try await runProcess(path, arguments)
}
