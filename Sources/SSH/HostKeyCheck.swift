import CLibSSH2
import Foundation
import Logging

/// What known_hosts says about the key a host presented.
enum HostKeyVerdict: Equatable {
    case match(KnownHostsEntry)
    /// Entries of the same key type with another key.
    case mismatch([KnownHostsEntry])
    /// No entry of this key type; `otherTypes` lists entries for the host with other key types.
    case unknown(otherTypes: [KnownHostsEntry])
    case revoked(KnownHostsEntry)

    /// OpenSSH semantics: the key type is part of the check; a revoked key is refused even if also listed.
    static func evaluate(_ file: KnownHostsFile, hostName: String, keyType: String, keyBlob: [UInt8])
        -> HostKeyVerdict {
        if let revoked = file.entries.first(where: { $0.marker == .revoked && $0.keyBlob == keyBlob }) {
            return .revoked(revoked)
        }
        let forHost = file.entries.filter { $0.marker == .none && $0.matches(hostName: hostName) }
        let sameType = forHost.filter { $0.keyType == keyType }
        if let match = sameType.first(where: { $0.keyBlob == keyBlob }) { return .match(match) }
        if !sameType.isEmpty { return .mismatch(sameType) }
        return .unknown(otherTypes: forHost)
    }
}

/// Serializes appends from many connections of this process (flock covers other processes).
private let knownHostsAppendLock = NSLock()
private let logger = Logger(label: "clusterctl.ssh")

extension LibSSH2Session {
    /// Checks the presented host key against known_hosts; appends it under accept-new when unknown.
    func checkHostKey() throws {
        var length = 0
        var type: Int32 = 0
        guard let raw = libssh2_session_hostkey(session, &length, &type), length > 0 else {
            throw error(.hostKey, "server presented no host key: \(lastError())")
        }
        let blob = [UInt8](UnsafeRawBufferPointer(start: raw, count: length))
        guard let keyType = keyTypeName(ofKeyBlob: blob) else {
            throw error(.hostKey, "cannot read the key type of the presented host key")
        }
        let path = expandTilde(config.knownHostsFile)
        let file: KnownHostsFile
        do {
            file = try KnownHostsFile.load(path: path)
        } catch {
            throw self.error(.hostKey, "cannot read known_hosts \(path): \(error.localizedDescription)")
        }
        for warning in file.warnings { logger.warning("\(warning)") }
        let name = config.knownHostsName
        let presented = sha256Fingerprint(ofKeyBlob: blob)
        switch HostKeyVerdict.evaluate(file, hostName: name, keyType: keyType, keyBlob: blob) {
        case .match:
            return
        case .revoked(let entry):
            throw error(.hostKey, "the \(keyType) host key \(presented) of \(name) is marked @revoked in "
                + "\(entry.location); refusing to connect")
        case .mismatch(let entries):
            let expected = entries.map { "\(sha256Fingerprint(ofKeyBlob: $0.keyBlob)) (\($0.location))" }
            throw error(.hostKey, """
                REMOTE HOST IDENTIFICATION HAS CHANGED for \(name): someone could be eavesdropping (man-in-the-middle), \
                or the host key was replaced.
                  presented \(keyType) key: \(presented)
                  expected \(keyType) key:  \(expected.joined(separator: ", "))
                If the change is legitimate, fix or remove \(entries.map(\.location).joined(separator: ", ")) \
                (ssh-keygen -R '\(name)' -f \(path)) and try again.
                """)
        case .unknown(let otherTypes):
            var note = ""
            if !otherTypes.isEmpty {
                note = " (known_hosts has only keys of other types for it: "
                    + otherTypes.map { "\($0.keyType) at \($0.location)" }.joined(separator: ", ") + ")"
            }
            guard config.hostKeyPolicy == .acceptNew else {
                throw error(.hostKey, """
                    host \(name) is not in \(path)\(note); it presented the \(keyType) key \(presented). \
                    Check that fingerprint, then add the key (ssh-keyscan) or use host key policy accept-new.
                    """)
            }
            let line = KnownHostsFile.hashedLine(hostName: name, keyType: keyType, keyBlob: blob)
            do {
                try appendLine(line, to: path)
            } catch {
                throw self.error(.hostKey, "cannot add \(name) to \(path): \(error)")
            }
            logger.notice("added \(keyType) host key \(presented) for \(name) to \(path)\(note)")
        }
    }

    private func appendLine(_ line: String, to path: String) throws {
        knownHostsAppendLock.lock()
        defer { knownHostsAppendLock.unlock() }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        }
        let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SystemError.errno("open", errno) }
        defer { Glibc.close(fd) }
        flock(fd, LOCK_EX)
        // A file whose last line lacks its newline would glue our entry onto it.
        var text = line + "\n"
        var size = stat()
        if fstat(fd, &size) == 0 && size.st_size > 0 {
            let reader = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            if reader >= 0 {
                var last: UInt8 = 0
                if pread(reader, &last, 1, size.st_size - 1) == 1 && last != UInt8(ascii: "\n") { text = "\n" + text }
                Glibc.close(reader)
            }
        }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw SystemError.errno("write", errno) }
    }
}

struct SystemError: Error, CustomStringConvertible {
    var description: String
    static func errno(_ call: String, _ code: Int32) -> SystemError {
        SystemError(description: "\(call): \(String(cString: strerror(code)))")
    }
}
