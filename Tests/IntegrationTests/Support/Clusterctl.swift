import Foundation
import Testing

/// The built clusterctl executable (next to the test bundle in .build/<configuration>/), run with stdin not a
/// TTY — the way a user's script would run it.
func clusterctl(_ arguments: [String], timeout: Double = 600) async throws -> ProcessOutput {
    let path = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("clusterctl").path
    try #require(FileManager.default.isExecutableFile(atPath: path), "\(path) missing: swift build --build-tests")
    return try await runProcess(path, arguments, timeout: timeout)
}

extension TestCluster {
    /// Runs `command` on `host` over SSH and returns stdout; the command must succeed.
    @discardableResult
    func run(_ host: String, _ command: String) async throws -> String {
        let output = try await ssh(host, command)
        try #require(output.status == 0, "\(host): \(command): \(output.stderr)")
        return output.stdout
    }
}

/// The seed's session check: a page that stores `?set=` in the session and prints what the session holds.
let sessionPage = """
    <?php
    session_start();
    if (isset($_GET['set'])) { $_SESSION['value'] = $_GET['set']; }
    echo isset($_SESSION['value']) ? $_SESSION['value'] : 'none';
    """

/// GET http://address/path with the session cookie set explicitly (a cookie jar would not send web1's cookie
/// to web2's address); returns the body.
func http(_ address: String, _ path: String, sessionID: String) async throws -> String {
    try await runProcess("/usr/bin/curl", ["-s", "--max-time", "10", "-H", "Cookie: PHPSESSID=\(sessionID)",
                                           "http://\(address)\(path)"]).stdout
}

/// The cluster's inventory with another cacheSizeMB, written next to it.
func inventoryWith(_ cluster: TestCluster, cacheSizeMB: Int) throws -> String {
    try inventoryVariant(cluster, "cache\(cacheSizeMB)") { json in
        var memcached = json["memcached"] as? [String: Any] ?? [:]
        memcached["cacheSizeMB"] = cacheSizeMB
        json["memcached"] = memcached
    }
}

/// The cluster's inventory changed by `edit`, written next to it as inventory-NAME.json.
func inventoryVariant(_ cluster: TestCluster, _ name: String, _ edit: (inout [String: Any]) -> Void) throws -> String {
    let data = try Data(contentsOf: URL(fileURLWithPath: cluster.inventoryPath))
    var json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    edit(&json)
    let path = (cluster.inventoryPath as NSString).deletingLastPathComponent + "/inventory-\(name).json"
    try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: path))
    return path
}

/// The seed's check over HTTP: a session value set through web1's session.php (`sessionPage`, which the test
/// put there) is read through web2's, with the same session id.
func expectSharedSession(_ cluster: TestCluster, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let sessionID = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    let value = "v\(Int.random(in: 1000...9999))"
    #expect(try await http(try cluster.address("web1"), "/session.php?set=\(value)", sessionID: sessionID) == value,
            sourceLocation: sourceLocation)
    #expect(try await http(try cluster.address("web2"), "/session.php", sessionID: sessionID) == value,
            sourceLocation: sourceLocation)
}

/// Expects a run to exit 0 and, when it did not, shows what it printed: a bare "status == 0" failure in CI
/// says nothing about which host failed or why.
func expectSuccess(_ output: ProcessOutput, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(output.status == 0, "exit \(output.status)\nstdout:\n\(output.stdout)\nstderr:\n\(output.stderr)",
            sourceLocation: sourceLocation)
}
