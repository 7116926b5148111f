import CLibSSH2
import Foundation

/// The OS thread of a jump host connection. It runs the connection's jobs (connect, open a forward, close)
/// and, between them, pumps bytes between each direct-tcpip channel and the local end of a socketpair whose
/// other end is the transport of a session reached through this host.
///
/// Why a socketpair and not libssh2 callbacks: the session behind the jump host then is an ordinary
/// `LibSSH2Session` on its own `ConnectionThread`, polling its own fd, and the jump host's libssh2 session is
/// touched by this thread alone (libssh2 handles must not be used by two threads at once). Nothing here runs
/// on Swift's cooperative pool: async callers only wait for continuations.
final class ForwardingLoop: @unchecked Sendable {
    let session: LibSSH2Session
    // jobs, stopping and brokenText are guarded by lock (jobs come from any thread).
    private let lock = NSLock()
    private var jobs: [() -> Void] = []
    private var stopping = false
    private var brokenText: String?
    /// A pipe that wakes the thread from poll() when a job arrives.
    private let wakeRead: Int32
    private let wakeWrite: Int32

    // Loop-thread only.
    var forwards: [ChannelForward] = []
    var opens: [PendingOpen] = []
    /// Channels being closed (CLOSE sent, waiting for the peer's), with when to give up waiting.
    var closing: [(channel: OpaquePointer, deadline: Deadline)] = []
    /// A libssh2 call that left a half-sent packet: it alone may run until it completes (see `sending`).
    var blocked: (() -> Void)?
    var pumping = false

    init(session: LibSSH2Session, name: String) {
        self.session = session
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            for fd in fds {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            }
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
        let thread = Thread { [self] in self.runLoop() }
        thread.name = name
        thread.stackSize = ConnectionThread.stackSize
        thread.start()
    }

    deinit {
        Glibc.close(wakeRead)
        Glibc.close(wakeWrite)
    }

    /// Why the connection can no longer forward (its session failed), or nil. Any thread.
    var broken: String? {
        lock.lock()
        defer { lock.unlock() }
        return brokenText
    }

    /// Runs `body` on the loop thread and returns its result to the awaiting task.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            let accepted = enqueue { continuation.resume(with: Result { try body() }) }
            if !accepted { continuation.resume(throwing: CancellationError()) }
        }
    }

    /// Opens a direct-tcpip channel to `host`:`port` (resolved and connected by the jump host) and returns
    /// the fd a session should use as its socket. The channel open does not stop the pumping of the others.
    func openForward(host: String, port: Int, timeout: Double) async throws -> Int32 {
        let deadline = Deadline.after(timeout)
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, Error>) in
            let accepted = enqueue { [self] in
                let open = PendingOpen(host: host, port: port, deadline: deadline) { continuation.resume(with: $0) }
                if let reason = broken {
                    open.finish(.failure(session.error(.connect, "jump host connection failed earlier: \(reason)")))
                } else {
                    opens.append(open)
                }
            }
            if !accepted { continuation.resume(throwing: CancellationError()) }
        }
    }

    /// Ends every forward, disconnects the session and ends the thread.
    func shutdown() async {
        _ = try? await run { [self] in
            tearDown("the jump host connection was closed")
            session.disconnect()
        }
        lock.withLock { stopping = true }
        wake()
    }

    private func enqueue(_ job: @escaping () -> Void) -> Bool {
        lock.lock()
        if stopping {
            lock.unlock()
            return false
        }
        jobs.append(job)
        lock.unlock()
        wake()
        return true
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    private func runLoop() {
        while true {
            lock.lock()
            let batch = jobs
            jobs = []
            let stop = stopping
            lock.unlock()
            for job in batch { job() }
            if stop && batch.isEmpty { return }
            let progressed = pumping && session.session != nil && broken == nil ? pump() : false
            if !progressed { waitForEvents() }
        }
    }

    /// Marks the connection broken: sessions through it see their socket close, pending opens fail.
    func fail(_ reason: String) {
        lock.lock()
        if brokenText == nil { brokenText = reason }
        lock.unlock()
        tearDown(reason)
    }

    private func tearDown(_ reason: String) {
        for open in opens { open.finish(.failure(session.error(.connect, reason))) }
        opens = []
        // Channels are freed with the session; closing the fds is what the sessions behind notice.
        for forward in forwards { forward.closeSocket() }
        forwards = []
        closing = []
        blocked = nil
        pumping = false
    }

    /// Sleeps until the jump host's socket, a socketpair end or the wake pipe is ready, at most 1 s (so
    /// deadlines and keepalives are looked at).
    private func waitForEvents() {
        var descriptors = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        var timeout: Int32 = 1000
        if pumping, broken == nil, let raw = session.session {
            if blocked != nil {
                descriptors.append(pollfd(fd: session.socket, events: Int16(POLLOUT), revents: 0))
            } else {
                // Only when some call will read the socket: unread input (or EOF) would wake poll() forever.
                let events = wantsInbound ? Int16(POLLIN) : 0
                descriptors.append(pollfd(fd: session.socket, events: events, revents: 0))
                // A hung-up fd reports POLLHUP whatever we ask for: leave it out (-1) once that is known.
                for forward in forwards {
                    descriptors.append(pollfd(fd: forward.peerHungUp ? -1 : forward.fd, events: forward.pollEvents, revents: 0))
                }
                timeout = min(timeout, sendKeepalive(raw))
            }
            for open in opens where open.resume != nil { timeout = min(timeout, open.deadline.remainingMilliseconds) }
        }
        _ = poll(&descriptors, nfds_t(descriptors.count), timeout)
        var drain = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &drain, drain.count) > 0 {}
        if descriptors.count > 2 && blocked == nil {
            for (index, forward) in forwards.enumerated() where descriptors[index + 2].revents & Int16(POLLHUP) != 0 {
                forward.peerHungUp = true
            }
        }
    }

    /// Whether a pending call drains the session's input: a channel read (its stream has room), a channel
    /// write (waits for a window adjust), an open or a close (wait for the reply). With none, input (a
    /// keepalive reply, or EOF of a jump host that went away) waits on the socket until one comes.
    private var wantsInbound: Bool {
        !opens.isEmpty || !closing.isEmpty || forwards.contains { forward in
            !forward.failed && ((forward.toSocket.isEmpty && !forward.channelEOF) || !forward.toChannel.isEmpty)
        }
    }

    /// libssh2 1.10's keepalive_send ignores EAGAIN and would leave a half-sent packet nobody can finish
    /// (its buffer is on that function's stack), so it is only sent when the socket has room right now.
    /// Returns the milliseconds until the next one is due.
    private func sendKeepalive(_ raw: OpaquePointer) -> Int32 {
        guard session.config.keepaliveInterval > 0 else { return 1000 }
        var writable = pollfd(fd: session.socket, events: Int16(POLLOUT), revents: 0)
        guard poll(&writable, 1, 0) == 1, writable.revents & Int16(POLLOUT) != 0 else { return 1000 }
        var nextSeconds: Int32 = 0
        _ = libssh2_keepalive_send(raw, &nextSeconds)
        return nextSeconds > 0 ? min(1000, nextSeconds * 1000) : 1000
    }
}

/// A channel open asked for and not yet answered.
final class PendingOpen {
    let host: String
    let port: Int
    let deadline: Deadline
    /// nil once answered (the caller timed out, or got its fd or error).
    var resume: ((Result<Int32, Error>) -> Void)?

    init(host: String, port: Int, deadline: Deadline, resume: @escaping (Result<Int32, Error>) -> Void) {
        self.host = host
        self.port = port
        self.deadline = deadline
        self.resume = resume
    }

    func finish(_ result: Result<Int32, Error>) {
        resume?(result)
        resume = nil
    }
}
