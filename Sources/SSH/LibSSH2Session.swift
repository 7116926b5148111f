import CLibSSH2
import Foundation

/// libssh2_init is not thread-safe: Swift runs a global's initializer exactly once, thread-safely.
/// libcrypto is initialised first, the way `libcryptoInitialized` says.
let libssh2InitResult: Int32 = {
    _ = libcryptoInitialized
    return libssh2_init(0)
}()

/// libssh2's version string, e.g. "1.10.0".
public var libssh2Version: String {
    String(cString: libssh2_version(0))
}

/// One TCP socket and one non-blocking libssh2 session. Confined to its connection's `ConnectionThread`:
/// nothing here is touched from any other thread (hence @unchecked Sendable). Every libssh2 call that would
/// block returns EAGAIN and we poll the socket ourselves, which gives us timeouts on every step.
final class LibSSH2Session: @unchecked Sendable {
    let config: SSHClientConfig
    var socket: Int32 = -1
    var session: OpaquePointer?
    var sftp: OpaquePointer?
    /// Why the SFTP subsystem could not be started (then uploads use SCP).
    var sftpUnavailableReason: String?
    /// "sftp" or "scp": how the last upload went (tests check the fallback).
    var lastUploadMethod: String?
    /// Set when a step timed out mid-protocol: the session state is unknown, later calls must fail.
    var brokenReason: String?
    /// Channels of timed-out commands, freed with the session.
    var abandonedChannels: [OpaquePointer] = []

    init(config: SSHClientConfig) {
        self.config = config
    }

    deinit {
        disconnect()
    }

    func error(_ step: SSHError.Step, _ message: String) -> SSHError {
        SSHError(host: config.host, port: config.port, step: step, message: message)
    }

    /// libssh2's own message for the last failure on this session.
    func lastError(_ fallbackCode: Int32 = 0) -> String {
        guard let session else { return "libssh2 error \(fallbackCode)" }
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        let code = libssh2_session_last_error(session, &message, &length, 0)
        if let message, length > 0 {
            return String(decoding: UnsafeRawBufferPointer(start: message, count: Int(length)), as: UTF8.self)
        }
        return "libssh2 error \(code != 0 ? code : fallbackCode)"
    }

    // MARK: Connect and handshake

    /// Connects over TCP, or over `existingSocket` (a jump host's forwarded channel; owned from here on).
    func open(over existingSocket: Int32? = nil) throws {
        if let existingSocket { socket = existingSocket }
        guard libssh2InitResult == 0 else { throw error(.connect, "libssh2_init failed (\(libssh2InitResult))") }
        let deadline = Deadline.after(config.connectTimeout)
        if existingSocket == nil {
            socket = try TCPConnector.connect(host: config.host, port: config.port, deadline: deadline) { message in
                self.error(.connect, message)
            }
        }
        guard let created = clusterctl_session_init() else { throw error(.handshake, "libssh2_session_init failed") }
        session = created
        libssh2_session_set_blocking(created, 0)
        preferKnownHostKeyTypes(created)
        let rc = try retry(deadline, .handshake, "SSH handshake") { libssh2_session_handshake(created, self.socket) }
        if rc != 0 { throw error(.handshake, lastError(rc)) }
        if config.keepaliveInterval > 0 {
            libssh2_keepalive_config(created, 1, UInt32(config.keepaliveInterval))
        }
    }

    func disconnect() {
        if let sftp {
            _ = try? retry(Deadline.after(2), .exec, "closing SFTP") { libssh2_sftp_shutdown(sftp) }
            self.sftp = nil
        }
        if let session {
            _ = try? retry(Deadline.after(2), .exec, "disconnecting") {
                libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, "clusterctl done", "")
            }
            // With the socket shut down, freeing cannot wait on the peer (channels still open would).
            if socket >= 0 { shutdown(socket, Int32(SHUT_RDWR)) }
            var attempts = 0
            while libssh2_session_free(session) == LIBSSH2_ERROR_EAGAIN && attempts < 100 { attempts += 1 }
            self.session = nil
            abandonedChannels = []
        }
        if socket >= 0 {
            Glibc.close(socket)
            socket = -1
        }
    }

    // MARK: Waiting on the non-blocking session

    /// Calls `call` until it stops returning EAGAIN, polling the socket in between.
    func retry(_ deadline: Deadline?, _ step: SSHError.Step, _ what: String, keepalive: Bool = false,
               _ call: () -> Int32) throws -> Int32 {
        while true {
            let rc = call()
            if rc != LIBSSH2_ERROR_EAGAIN { return rc }
            try waitForSocket(deadline, step, what, keepalive: keepalive)
        }
    }

    /// Like `retry` for calls that return a pointer and report EAGAIN through the session's last errno.
    func retryPointer(_ deadline: Deadline?, _ step: SSHError.Step, _ what: String,
                      _ call: () -> OpaquePointer?) throws -> OpaquePointer? {
        while true {
            if let result = call() { return result }
            if libssh2_session_last_errno(session) != LIBSSH2_ERROR_EAGAIN { return nil }
            try waitForSocket(deadline, step, what, keepalive: false)
        }
    }

    /// Waits until the socket is ready in the direction libssh2 is blocked on, or the deadline passes.
    /// With `keepalive`, sends keepalives while waiting (only where nothing outbound is half-sent).
    func waitForSocket(_ deadline: Deadline?, _ step: SSHError.Step, _ what: String, keepalive: Bool) throws {
        let directions = libssh2_session_block_directions(session)
        var events: Int16 = 0
        if directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { events |= Int16(POLLIN) }
        if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { events |= Int16(POLLOUT) }
        if events == 0 { events = Int16(POLLIN) }
        var waitMilliseconds: Int32 = 1000
        if let deadline {
            if deadline.expired {
                brokenReason = "\(what) timed out"
                throw error(step, "\(what) timed out after \(describeSeconds(deadline.seconds))")
            }
            waitMilliseconds = min(waitMilliseconds, deadline.remainingMilliseconds)
        }
        if keepalive && config.keepaliveInterval > 0 && directions == LIBSSH2_SESSION_BLOCK_INBOUND {
            var nextSeconds: Int32 = 0
            if libssh2_keepalive_send(session, &nextSeconds) == 0 && nextSeconds > 0 {
                waitMilliseconds = min(waitMilliseconds, nextSeconds * 1000)
            }
        }
        var descriptor = pollfd(fd: socket, events: events, revents: 0)
        _ = poll(&descriptor, 1, waitMilliseconds)
    }

    /// Sends a keepalive on an idle connection (called by the connection thread between jobs).
    func sendIdleKeepalive() {
        guard let session, brokenReason == nil, config.keepaliveInterval > 0 else { return }
        var nextSeconds: Int32 = 0
        _ = libssh2_keepalive_send(session, &nextSeconds)
    }

    func ensureUsable(_ step: SSHError.Step) throws {
        if let brokenReason { throw error(step, "connection unusable: \(brokenReason) earlier") }
        if session == nil { throw error(step, "connection is closed") }
    }
}
