import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Process-wide: one test cluster at a time (Swift Testing runs tests in parallel). FIFO.
actor ClusterLock {
    static let shared = ClusterLock()
    private var held = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if !held {
            held = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            held = false
        } else {
            waiters.removeFirst().resume()   // ownership passes straight to the next waiter
        }
    }
}

/// Machine-wide: an exclusive flock held from `up` to `down`, so test runs in other processes (or other
/// worktrees) and `testcluster up/down` from a shell wait instead of tearing down our cluster.
/// Polls with LOCK_NB so no thread of the concurrency pool blocks in flock(2).
struct SessionLock: Sendable {
    let fd: Int32

    static func acquire(path: String) async throws -> SessionLock {
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                 withIntermediateDirectories: true)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw SessionLockError(path: path, message: String(cString: strerror(errno))) }
        var announced = false
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if errno != EWOULDBLOCK && errno != EINTR {
                let message = String(cString: strerror(errno))
                close(fd)
                throw SessionLockError(path: path, message: message)
            }
            if !announced {
                FileHandle.standardError.write(Data("TestCluster: waiting for \(path) (another test run has a cluster)\n".utf8))
                announced = true
            }
            do {
                try await Task.sleep(nanoseconds: 200_000_000)
            } catch {
                close(fd)
                throw error
            }
        }
        return SessionLock(fd: fd)
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

struct SessionLockError: Error, CustomStringConvertible {
    var path: String
    var message: String
    var description: String { "cannot lock \(path): \(message)" }
}
