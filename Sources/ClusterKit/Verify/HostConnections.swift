/// One open transport per reachable host for a whole verify run, opened in parallel.
struct HostConnections: Sendable {
    struct Failure: Sendable {
        var host: String
        var reason: String
    }

    let transports: [String: any HostTransport]
    let failures: [Failure]

    static func open(_ hosts: [Host], connect: @escaping Verifier.Connect) async -> HostConnections {
        var transports: [String: any HostTransport] = [:]
        var failures: [Failure] = []
        await withTaskGroup(of: (String, Result<any HostTransport, any Error>).self) { group in
            for host in hosts {
                group.addTask {
                    do { return (host.name, .success(try await connect(host))) } catch { return (host.name, .failure(error)) }
                }
            }
            for await (name, result) in group {
                switch result {
                case .success(let t): transports[name] = t
                case .failure(let e): failures.append(Failure(host: name, reason: "\(e)"))
                }
            }
        }
        return HostConnections(transports: transports, failures: failures.sorted { $0.host < $1.host })
    }

    /// Runs `body` for every given host that is connected, in parallel; results in the hosts' order.
    /// A command that throws becomes a failed check naming the host, instead of ending the run.
    func forEach(_ hosts: [Host],
                 _ body: @escaping @Sendable (Host, any HostTransport) async throws -> [VerifyCheck]) async -> [VerifyCheck] {
        var byHost: [String: [VerifyCheck]] = [:]
        await withTaskGroup(of: (String, [VerifyCheck]).self) { group in
            for host in hosts {
                guard let transport = transports[host.name] else { continue }
                group.addTask {
                    do { return (host.name, try await body(host, transport)) } catch {
                        return (host.name, [VerifyCheck(host: host.name, check: "exec", passed: false,
                                                        detail: "command failed: \(error)")])
                    }
                }
            }
            for await (name, checks) in group { byHost[name] = checks }
        }
        return hosts.flatMap { byHost[$0.name] ?? [] }
    }

    func closeAll() async {
        for transport in transports.values { await transport.close() }
    }
}
