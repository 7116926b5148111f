import CLibSSH2
import Foundation

/// One direct-tcpip channel and the loop's end of its socketpair. Touched by the forwarding loop's thread only.
final class ChannelForward {
    let channel: OpaquePointer
    private(set) var fd: Int32
    /// Read from the socketpair, not yet taken by the channel (bounded: the socket is not read meanwhile).
    var toChannel: [UInt8] = []
    /// Read from the channel, not yet written to the socketpair (likewise bounded).
    var toSocket: [UInt8] = []
    var toSocketOffset = 0
    /// The session behind shut down its sending side: nothing more for the channel once `toChannel` is sent.
    var socketEOF = false
    /// It closed both directions: nothing more can be delivered to it.
    var peerHungUp = false
    var channelEOF = false
    var eofSent = false
    /// A channel error (not a session error): drop this forward only.
    var failed = false

    init(channel: OpaquePointer, fd: Int32) {
        self.channel = channel
        self.fd = fd
    }

    /// Done in both directions (or failed): the channel can be closed.
    var finished: Bool {
        failed || (socketEOF && eofSent && toChannel.isEmpty && ((channelEOF && toSocket.isEmpty) || peerHungUp))
    }

    /// What to wait for on `fd`; POLLIN only while there is room and the peer may still send, or a
    /// half-closed socket would wake poll() forever.
    var pollEvents: Int16 {
        var events: Int16 = 0
        if toChannel.isEmpty && !socketEOF { events |= Int16(POLLIN) }
        if !toSocket.isEmpty { events |= Int16(POLLOUT) }
        return events
    }

    func readSocket() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 32 * 1024)
        let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        if count > 0 {
            toChannel = Array(buffer[0..<count])
            return true
        }
        if count < 0 && (errno == EAGAIN || errno == EINTR) { return false }
        socketEOF = true
        if count < 0 { peerHungUp = true }
        return true
    }

    func writeSocket() -> Bool {
        let remaining = toSocket.count - toSocketOffset
        let count = toSocket.withUnsafeBytes { raw in
            send(fd, raw.baseAddress! + toSocketOffset, remaining, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL))
        }
        if count > 0 {
            toSocketOffset += count
            if toSocketOffset == toSocket.count {
                toSocket = []
                toSocketOffset = 0
            }
            return true
        }
        if count < 0 && (errno == EAGAIN || errno == EINTR) { return false }
        // EPIPE, ECONNRESET: the session behind is gone; what the far end still sends has nowhere to go.
        toSocket = []
        toSocketOffset = 0
        peerHungUp = true
        socketEOF = true
        return true
    }

    func closeSocket() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}

/// libssh2 errors about one channel; any other error on a channel call means the session itself failed.
private let channelOnlyErrors: Set<Int32> = [
    LIBSSH2_ERROR_CHANNEL_CLOSED, LIBSSH2_ERROR_CHANNEL_EOF_SENT, LIBSSH2_ERROR_CHANNEL_FAILURE,
    LIBSSH2_ERROR_CHANNEL_UNKNOWN, LIBSSH2_ERROR_CHANNEL_WINDOW_EXCEEDED, LIBSSH2_ERROR_CHANNEL_PACKET_EXCEEDED,
    LIBSSH2_ERROR_CHANNEL_OUTOFORDER, LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED,
]

extension ForwardingLoop {
    /// One pass over the pending open and every forward: first what the sessions behind sent, then what
    /// arrived for them. True when anything moved (the caller then passes again before sleeping).
    func pump() -> Bool {
        if let retry = blocked {
            blocked = nil
            retry()
            if blocked != nil { return false }
        }
        var progressed = advanceOpen()
        for forward in forwards where blocked == nil && pumping { progressed = writePhase(forward) || progressed }
        for forward in forwards where blocked == nil && pumping { progressed = readPhase(forward) || progressed }
        for entry in closing where blocked == nil && pumping { progressed = closeStep(entry.channel) || progressed }
        for forward in forwards where forward.finished {
            forward.closeSocket()
            closing.append((forward.channel, Deadline.after(5)))
            progressed = true
        }
        forwards.removeAll(where: \.finished)
        // A call on one channel reads every packet that has arrived, for the others too: data or a window
        // adjust can be waiting inside libssh2 with nothing left on the socket to wake poll().
        return progressed || (blocked == nil && pumping && forwards.contains(where: hasQueuedWork))
    }

    private func hasQueuedWork(_ forward: ChannelForward) -> Bool {
        if forward.failed { return false }
        if forward.toSocket.isEmpty && !forward.channelEOF
            && (libssh2_poll_channel_read(forward.channel, 0) > 0 || libssh2_channel_eof(forward.channel) != 0) {
            return true
        }
        return !forward.toChannel.isEmpty && libssh2_channel_window_write_ex(forward.channel, nil) > 0
    }

    /// For libssh2 calls that may send. EAGAIN while the session is blocked outbound means a packet went
    /// out half; libssh2 1.10 refuses every other send until that same call completes (send_existing returns
    /// LIBSSH2_ERROR_BAD_USE), so `retry` becomes the only thing the loop runs until it does.
    private func sending(_ rc: Int, retry: @escaping () -> Void) -> Int {
        if rc == Int(LIBSSH2_ERROR_EAGAIN), let raw = session.session,
           libssh2_session_block_directions(raw) & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 {
            blocked = retry
        }
        return rc
    }

    private func channelError(_ rc: Int, _ forward: ChannelForward, _ what: String) -> Bool {
        if channelOnlyErrors.contains(Int32(rc)) {
            forward.failed = true
        } else {
            fail("\(what): \(session.lastError(Int32(rc)))")
        }
        return true
    }

    private func writePhase(_ forward: ChannelForward) -> Bool {
        guard !forward.failed else { return false }
        var progressed = false
        if forward.toChannel.isEmpty && !forward.socketEOF { progressed = forward.readSocket() }
        if !forward.toChannel.isEmpty {
            progressed = writeChannel(forward) || progressed
        } else if forward.socketEOF && !forward.eofSent && blocked == nil {
            progressed = sendEOF(forward) || progressed
        }
        if !forward.toSocket.isEmpty { progressed = forward.writeSocket() || progressed }
        return progressed
    }

    private func readPhase(_ forward: ChannelForward) -> Bool {
        guard !forward.failed, forward.toSocket.isEmpty, !forward.channelEOF else { return false }
        return readChannel(forward)
    }

    private func writeChannel(_ forward: ChannelForward) -> Bool {
        let rc = sending(forward.toChannel.withUnsafeBytes { raw in
            libssh2_channel_write_ex(forward.channel, 0, raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
        }, retry: { [unowned self] in _ = self.writeChannel(forward) })
        if rc > 0 {
            forward.toChannel.removeFirst(rc)
            return true
        }
        // 0: the peer's window is full (a window adjust will arrive on the socket); EAGAIN: socket full.
        if rc == 0 || rc == Int(LIBSSH2_ERROR_EAGAIN) { return false }
        return channelError(rc, forward, "writing to a forwarded channel")
    }

    private func sendEOF(_ forward: ChannelForward) -> Bool {
        let rc = sending(Int(libssh2_channel_send_eof(forward.channel)),
                         retry: { [unowned self] in _ = self.sendEOF(forward) })
        if rc == Int(LIBSSH2_ERROR_EAGAIN) { return false }
        forward.eofSent = true
        return rc == 0 ? true : channelError(rc, forward, "sending EOF on a forwarded channel")
    }

    private func readChannel(_ forward: ChannelForward) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 32 * 1024)
        let rc = sending(buffer.withUnsafeMutableBytes { raw in
            libssh2_channel_read_ex(forward.channel, 0, raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
        }, retry: { [unowned self] in _ = self.readChannel(forward) })
        if rc > 0 {
            forward.toSocket = Array(buffer[0..<rc])
            forward.toSocketOffset = 0
            _ = forward.writeSocket()
            return true
        }
        if rc == 0 {
            guard libssh2_channel_eof(forward.channel) != 0 else { return false }
            forward.channelEOF = true
            Glibc.shutdown(forward.fd, Int32(SHUT_WR))
            return true
        }
        if rc == Int(LIBSSH2_ERROR_EAGAIN) { return false }
        return channelError(rc, forward, "reading a forwarded channel")
    }

    /// Sends CLOSE and waits (without blocking the others) for the peer's; gives up after the deadline and
    /// leaves the channel to be freed with the session.
    private func closeStep(_ channel: OpaquePointer) -> Bool {
        let rc = sending(Int(libssh2_channel_close(channel)), retry: { [unowned self] in _ = self.closeStep(channel) })
        let expired = closing.first(where: { $0.channel == channel })?.deadline.expired ?? true
        if rc == Int(LIBSSH2_ERROR_EAGAIN) && !(expired && blocked == nil) { return false }
        closing.removeAll { $0.channel == channel }
        if rc != Int(LIBSSH2_ERROR_EAGAIN) { _ = libssh2_channel_free(channel) }
        return true
    }

    /// Works on the first requested channel open (libssh2 keeps one direct-tcpip open in progress per session).
    func advanceOpen() -> Bool {
        guard let open = opens.first, let raw = session.session else { return false }
        if open.resume != nil && open.deadline.expired {
            open.finish(.failure(session.error(.connect, "the jump host did not open a channel to "
                + "\(open.host):\(open.port) within \(describeSeconds(open.deadline.seconds))")))
        }
        let channel = libssh2_channel_direct_tcpip_ex(raw, open.host, Int32(open.port), "127.0.0.1", 0)
        guard let channel else {
            let code = libssh2_session_last_errno(raw)
            if code == LIBSSH2_ERROR_EAGAIN {
                _ = sending(Int(code), retry: { [unowned self] in _ = self.advanceOpen() })
                return false
            }
            opens.removeFirst()
            let reason = session.lastError(code)
            // A refused or failed open (or libssh2's own wait limit) leaves the session usable; nothing else
            // does. Marked broken before the caller hears of it, so that it knows to try a fresh connection.
            if code != LIBSSH2_ERROR_CHANNEL_FAILURE && code != LIBSSH2_ERROR_TIMEOUT { fail("opening a channel: \(reason)") }
            open.finish(.failure(session.error(.connect, "the jump host could not open a channel to "
                + "\(open.host):\(open.port): \(reason)")))
            return true
        }
        opens.removeFirst()
        guard open.resume != nil else {  // the caller gave up waiting
            closing.append((channel, Deadline.after(5)))
            return true
        }
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            closing.append((channel, Deadline.after(5)))
            open.finish(.failure(SystemError.errno("socketpair", errno)))
            return true
        }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        forwards.append(ChannelForward(channel: channel, fd: fds[0]))
        open.finish(.success(fds[1]))
        return true
    }
}
