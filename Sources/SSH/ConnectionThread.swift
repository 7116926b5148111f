import Foundation

/// One OS thread that runs one connection's jobs in order.
///
/// libssh2 calls may block (poll on the socket, TTY passphrase prompts), and a session must be used by one
/// thread at a time, so every call for a session runs here and never on Swift's cooperative pool. A modest
/// stack keeps hundreds of connections cheap. When no job arrives for `idleInterval` seconds, `onIdle`
/// runs (keepalives for an otherwise quiet connection).
final class ConnectionThread: @unchecked Sendable {
    // jobs and stopping are guarded by condition.
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var stopping = false
    private let idleInterval: Double
    private let onIdle: @Sendable () -> Void

    static let stackSize = 512 * 1024

    init(name: String, idleInterval: Double, onIdle: @escaping @Sendable () -> Void) {
        self.idleInterval = idleInterval
        self.onIdle = onIdle
        let thread = Thread { [self] in self.runLoop() }
        thread.name = name
        thread.stackSize = Self.stackSize
        thread.start()
    }

    /// Runs `body` on the connection thread and returns its result to the awaiting task.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            let accepted = enqueue {
                continuation.resume(with: Result { try body() })
            }
            if !accepted {
                continuation.resume(throwing: CancellationError())
            }
        }
    }

    /// Lets queued jobs finish, then ends the thread. Later `run` calls throw.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func enqueue(_ job: @escaping () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if stopping { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    private func runLoop() {
        while true {
            condition.lock()
            var idle = false
            while jobs.isEmpty && !stopping {
                if idleInterval > 0 {
                    if !condition.wait(until: Date(timeIntervalSinceNow: idleInterval)) && jobs.isEmpty {
                        idle = true
                        break
                    }
                } else {
                    condition.wait()
                }
            }
            if jobs.isEmpty && stopping {
                condition.unlock()
                return
            }
            if idle {
                condition.unlock()
                onIdle()
                continue
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}
