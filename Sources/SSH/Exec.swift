import CLibSSH2

extension LibSSH2Session {
    /// Runs `command` on an exec channel, feeding `stdin` and reading stdout and stderr in turn (a stream that
    /// is not read stops the remote command once its window fills, so neither may wait for the other).
    func exec(_ command: String, stdin: [UInt8], timeout: Double?) throws -> SSHExecResult {
        try ensureUsable(.exec)
        let deadline = timeout.map(Deadline.after)
        guard let channel = try retryPointer(deadline, .exec, "opening a channel", {
            clusterctl_channel_open_session(session)
        }) else {
            throw error(.exec, "opening a channel: \(lastError())")
        }
        defer { if !abandonedChannels.contains(channel) { freeChannel(channel) } }
        let rc = try retry(deadline, .exec, "starting the command") {
            command.withCString { clusterctl_channel_exec(channel, $0, UInt32(command.utf8.count)) }
        }
        if rc != 0 { throw error(.exec, "starting the command: \(lastError(rc))") }

        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var written = 0
        var eofSent = false
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        // A call that returned EAGAIN with half a packet sent must be called again before any other call
        // that sends: libssh2 1.10 fails that one with LIBSSH2_ERROR_BAD_USE (send_existing). Reads send too
        // (window adjusts). Small socket buffers (a jump host's socketpair) make half-sent packets common.
        var blockedOn: ExecStep?
        while true {
            var progressed = false
            if blockedOn == nil || blockedOn == .stdin, written < stdin.count {
                blockedOn = nil
                let count = stdin.withUnsafeBufferPointer { input in
                    libssh2_channel_write_ex(channel, 0, UnsafeRawPointer(input.baseAddress! + written)
                        .assumingMemoryBound(to: CChar.self), min(stdin.count - written, 64 * 1024))
                }
                if count > 0 {
                    written += count
                    progressed = true
                } else if count == Int(LIBSSH2_ERROR_EAGAIN) {
                    if outboundPending { blockedOn = .stdin }
                } else {
                    // The command exited or closed its stdin without reading everything: like a pipe, stop.
                    written = stdin.count
                }
            }
            if blockedOn == nil || blockedOn == .eof, written == stdin.count && !eofSent {
                blockedOn = nil
                let eof = libssh2_channel_send_eof(channel)
                if eof != LIBSSH2_ERROR_EAGAIN { eofSent = true } else if outboundPending { blockedOn = .eof }
            }
            if blockedOn == nil || blockedOn == .output {
                blockedOn = nil
                let outState = try drain(channel, stream: 0, into: &stdout, buffer: &buffer)
                let errState = try drain(channel, stream: 1, into: &stderr, buffer: &buffer)
                progressed = progressed || outState.progressed || errState.progressed
                if outboundPending { blockedOn = .output }
                if blockedOn == nil && outState.ended && errState.ended && libssh2_channel_eof(channel) != 0 { break }
            }
            if !progressed {
                do {
                    try waitForSocket(deadline, .exec, "command", keepalive: true)
                } catch {
                    abandon(channel)
                    throw error
                }
            }
        }
        return try finish(channel, stdout: stdout, stderr: stderr, deadline: deadline)
    }

    /// A packet was sent only in part (the socket was full): the call that sent it must run again first.
    var outboundPending: Bool {
        guard let session else { return false }
        return libssh2_session_block_directions(session) & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0
    }

    /// Reads everything available on one stream. `ended`: the last read returned 0 (nothing queued).
    private func drain(_ channel: OpaquePointer, stream: Int32, into output: inout [UInt8],
                       buffer: inout [UInt8]) throws -> (progressed: Bool, ended: Bool) {
        var progressed = false
        while true {
            let count = buffer.withUnsafeMutableBufferPointer { raw in
                raw.withMemoryRebound(to: CChar.self) { libssh2_channel_read_ex(channel, stream, $0.baseAddress, $0.count) }
            }
            if count > 0 {
                output.append(contentsOf: buffer[0..<count])
                progressed = true
            } else if count == 0 {
                return (progressed, true)
            } else if count == Int(LIBSSH2_ERROR_EAGAIN) {
                return (progressed, false)
            } else {
                throw error(.exec, "reading \(stream == 0 ? "stdout" : "stderr"): \(lastError(Int32(count)))")
            }
        }
    }

    /// Closes the channel and reads the exit status, which is only reliable once the channel has closed.
    private func finish(_ channel: OpaquePointer, stdout: [UInt8], stderr: [UInt8],
                        deadline: Deadline?) throws -> SSHExecResult {
        var rc = try retry(deadline, .exec, "closing the channel") { libssh2_channel_close(channel) }
        if rc == 0 { rc = try retry(deadline, .exec, "closing the channel") { libssh2_channel_wait_closed(channel) } }
        if rc != 0 { throw error(.exec, "closing the channel: \(lastError(rc))") }
        let status = libssh2_channel_get_exit_status(channel)
        var signalPointer: UnsafeMutablePointer<CChar>?
        var signalLength = 0
        _ = libssh2_channel_get_exit_signal(channel, &signalPointer, &signalLength, nil, nil, nil, nil)
        var signal: String?
        if let signalPointer {
            signal = String(decoding: UnsafeRawBufferPointer(start: signalPointer, count: signalLength), as: UTF8.self)
            libssh2_free(session, signalPointer)
        }
        return SSHExecResult(stdout: stdout, stderr: stderr, exitStatus: status, exitSignal: signal)
    }

    /// After a timeout. libssh2 1.10 cannot signal the remote command (no channel_signal), and the channel
    /// only closes once the command ends, so the session cannot be used cleanly again: it is marked unusable
    /// (the caller reconnects) and the channel is left to `disconnect`, which frees everything.
    private func abandon(_ channel: OpaquePointer) {
        brokenReason = "a command timed out (reconnect to go on)"
        abandonedChannels.append(channel)
    }

    func freeChannel(_ channel: OpaquePointer) {
        _ = try? retry(Deadline.after(2), .exec, "freeing the channel") { libssh2_channel_free(channel) }
    }
}

/// The step of `exec`'s loop that left a half-sent packet.
enum ExecStep { case stdin, eof, output }
