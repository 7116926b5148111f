/// One open transport per reachable host for a whole verify run (a `ConnectionPool`, opened in parallel
/// up front), with the hosts that could not be reached.
struct HostConnections: Sendable {
    struct Failure: Sendable {
        var host: String
        var reason: String
    }

    /// How many hosts verify talks to at once (each is one SSH connection and one thread).
    static let parallelism = 64

    private let pool: ConnectionPool
    /// The pool's connections, looked up synchronously by host name.
    let transports: [String: any HostTransport]
    let failures: [Failure]

    static func open(_ hosts: [Host], connect: @escaping HostConnector) async -> HostConnections {
        let pool = ConnectionPool(connector: connect)
        let results = await BoundedParallel.map(hosts, limit: parallelism) { host -> Result<any HostTransport, any Error> in
            do { return .success(try await pool.transport(for: host)) } catch { return .failure(error) }
        }
        var transports: [String: any HostTransport] = [:]
        var failures: [Failure] = []
        for (host, result) in zip(hosts, results) {
            switch result {
            case .success(let transport): transports[host.name] = transport
            case .failure(let error): failures.append(Failure(host: host.name, reason: "\(error)"))
            }
        }
        return HostConnections(pool: pool, transports: transports, failures: failures.sorted { $0.host < $1.host })
    }

    /// Runs `body` for every given host that is connected, in parallel; results in the hosts' order.
    /// A command that throws becomes a failed check naming the host, instead of ending the run.
    func forEach(_ hosts: [Host],
                 _ body: @escaping @Sendable (Host, any HostTransport) async throws -> [VerifyCheck]) async -> [VerifyCheck] {
        let connected = hosts.compactMap { host in transports[host.name].map { (host, $0) } }
        let checks = await BoundedParallel.map(connected, limit: Self.parallelism) { host, transport in
            do { return try await body(host, transport) } catch {
                return [VerifyCheck(host: host.name, check: "exec", passed: false, detail: "command failed: \(error)")]
            }
        }
        return checks.flatMap { $0 }
    }

    func closeAll() async {
        await pool.closeAll()
    }
}
