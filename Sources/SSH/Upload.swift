import CLibSSH2
import Foundation

extension LibSSH2Session {
    /// Writes `data` to `path` with `mode` over SFTP (truncating, and setting the mode on existing files
    /// too, since SFTP's open mode only applies to new ones); over SCP when the server has no sftp subsystem.
    func upload(_ data: [UInt8], to path: String, mode: Int32) throws {
        try ensureUsable(.upload)
        let deadline = config.commandTimeout.map(Deadline.after)
        if sftp == nil && sftpUnavailableReason == nil {
            sftp = try retryPointer(deadline, .upload, "starting SFTP") { libssh2_sftp_init(session) }
            if sftp == nil { sftpUnavailableReason = lastError() }
        }
        if let sftp {
            try uploadWithSFTP(sftp, data, to: path, mode: mode, deadline: deadline)
            lastUploadMethod = "sftp"
        } else {
            try uploadWithSCP(data, to: path, mode: mode, deadline: deadline)
            lastUploadMethod = "scp"
        }
    }

    private func uploadWithSFTP(_ sftp: OpaquePointer, _ data: [UInt8], to path: String, mode: Int32,
                                deadline: Deadline?) throws {
        let permissions = Int(mode & 0o7777)
        guard let handle = try retryPointer(deadline, .upload, "opening \(path)", {
            path.withCString { clusterctl_sftp_open_for_write(sftp, $0, UInt32(path.utf8.count), permissions) }
        }) else {
            throw error(.upload, "opening \(path) over SFTP: \(sftpError(sftp))")
        }
        var closed = false
        defer {
            if !closed { _ = try? retry(Deadline.after(2), .upload, "closing \(path)") { libssh2_sftp_close_handle(handle) } }
        }
        var written = 0
        while written < data.count {
            let count = try data.withUnsafeBufferPointer { input in
                let start = UnsafeRawPointer(input.baseAddress! + written).assumingMemoryBound(to: CChar.self)
                let remaining = data.count - written
                return try retry(deadline, .upload, "writing \(path)") {
                    Int32(clamping: libssh2_sftp_write(handle, start, remaining))
                }
            }
            if count < 0 { throw error(.upload, "writing \(path) over SFTP: \(sftpError(sftp))") }
            written += Int(count)
        }
        let rc = try retry(deadline, .upload, "setting the mode of \(path)") {
            clusterctl_sftp_set_permissions(handle, UInt(permissions))
        }
        if rc != 0 { throw error(.upload, "setting mode \(String(permissions, radix: 8)) on \(path): \(sftpError(sftp))") }
        closed = true
        let closeRC = try retry(deadline, .upload, "closing \(path)") { libssh2_sftp_close_handle(handle) }
        if closeRC != 0 { throw error(.upload, "closing \(path) over SFTP: \(sftpError(sftp))") }
    }

    private func sftpError(_ sftp: OpaquePointer) -> String {
        let status = libssh2_sftp_last_error(sftp)
        let names: [UInt: String] = [2: "no such file", 3: "permission denied", 4: "failure", 5: "bad message",
                                     11: "file already exists", 14: "no space on filesystem"]
        guard status != 0 else { return lastError() }
        return "SFTP status \(status) (\(names[status] ?? "see RFC draft-ietf-secsh-filexfer")); \(lastError())"
    }

    /// SCP sink protocol via libssh2_scp_send64. A non-zero mtime makes libssh2 run `scp -p -t`, so the mode
    /// is applied to existing files too; the sink truncates to the announced size.
    private func uploadWithSCP(_ data: [UInt8], to path: String, mode: Int32, deadline: Deadline?) throws {
        let now = time(nil)
        guard let channel = try retryPointer(deadline, .upload, "starting scp for \(path)", {
            libssh2_scp_send64(session, path, mode & 0o777, Int64(data.count), now, now)
        }) else {
            throw error(.upload, "scp to \(path) (no SFTP: \(sftpUnavailableReason ?? "?")): \(lastError())")
        }
        defer { freeChannel(channel) }
        var written = 0
        // The trailing NUL is the sender's "file complete" status byte of the SCP protocol.
        let payload = data + [0]
        while written < payload.count {
            let count = try payload.withUnsafeBufferPointer { input in
                let start = UnsafeRawPointer(input.baseAddress! + written).assumingMemoryBound(to: CChar.self)
                let remaining = min(payload.count - written, 64 * 1024)
                return try retry(deadline, .upload, "writing \(path)") {
                    Int32(clamping: libssh2_channel_write_ex(channel, 0, start, remaining))
                }
            }
            if count < 0 { throw error(.upload, "writing \(path) over scp: \(lastError(count))") }
            written += Int(count)
        }
        _ = try retry(deadline, .upload, "finishing scp") { libssh2_channel_send_eof(channel) }
        _ = try retry(deadline, .upload, "finishing scp") { libssh2_channel_wait_eof(channel) }
        _ = try retry(deadline, .upload, "finishing scp") { libssh2_channel_close(channel) }
        _ = try retry(deadline, .upload, "finishing scp") { libssh2_channel_wait_closed(channel) }
        var messages = [UInt8](repeating: 0, count: 4096)
        let count = messages.withUnsafeMutableBufferPointer { raw in
            raw.withMemoryRebound(to: CChar.self) { libssh2_channel_read_ex(channel, 1, $0.baseAddress, $0.count) }
        }
        let status = libssh2_channel_get_exit_status(channel)
        if status != 0 {
            let text = count > 0 ? String(decoding: messages[0..<count], as: UTF8.self) : ""
            throw error(.upload, "scp to \(path) exited with \(status): \(text)")
        }
    }
}
