import Synchronization

/// A new connection, or nil when none is made before `deadline`. After a rule that drops SSH, a connect hangs
/// until its own timeout, which may outlast the rollback: past the deadline the answer is "cut" (and a
/// connection that comes later anyway is closed unused).
enum ReconnectRace {
    static func connect(_ reconnect: @escaping Reconnector,
                        before deadline: ContinuousClock.Instant) async throws -> HostTransport? {
        let outcome = Outcome()
        var timer: Task<Void, Never>?
        let result = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HostTransport?, Error>) in
            outcome.set(continuation)
            // Not awaited: past the deadline it is left to finish (its own connect timeout) and close.
            Task {
                do {
                    let transport = try await reconnect()
                    if !outcome.resume(.success(transport)) { await transport.close() }
                } catch {
                    _ = outcome.resume(.failure(error))
                }
            }
            timer = Task {
                try? await Task.sleep(until: deadline, clock: .continuous)
                _ = outcome.resume(.success(nil))
            }
        }
        timer?.cancel()
        return result
    }

    /// Resumes the continuation once: the first of connection, error or deadline wins.
    private final class Outcome: Sendable {
        private let state = Mutex<CheckedContinuation<HostTransport?, Error>?>(nil)

        func set(_ continuation: CheckedContinuation<HostTransport?, Error>) {
            state.withLock { $0 = continuation }
        }

        func resume(_ result: Result<HostTransport?, Error>) -> Bool {
            guard let continuation = state.withLock({ current in
                defer { current = nil }
                return current
            }) else { return false }
            continuation.resume(with: result)
            return true
        }
    }
}
