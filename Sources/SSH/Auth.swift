import CLibSSH2
import Foundation

extension LibSSH2Session {
    /// Public key auth in OpenSSH's order: ssh-agent, the configured identity files (or the defaults
    /// ~/.ssh/id_ed25519, id_ecdsa, id_rsa). Failing, the error lists every key tried and why it failed.
    func authenticate() throws {
        let user = config.user
        let deadline = Deadline.after(config.connectTimeout)
        var methodsPointer: UnsafeMutablePointer<CChar>?
        while true {
            methodsPointer = libssh2_userauth_list(session, user, UInt32(user.utf8.count))
            if methodsPointer != nil || libssh2_session_last_errno(session) != LIBSSH2_ERROR_EAGAIN { break }
            try waitForSocket(deadline, .auth, "asking for auth methods", keepalive: false)
        }
        if libssh2_userauth_authenticated(session) != 0 { return }  // the server accepted "none"
        guard let methodsPointer else { throw error(.auth, lastError()) }
        let methods = String(cString: methodsPointer)
        guard methods.split(separator: ",").contains("publickey") else {
            throw error(.auth, "server offers no publickey auth for \(user) (offers: \(methods))")
        }

        var attempts: [(keyType: String?, text: String)] = []
        if config.useAgent {
            let socketPath = config.agentSocket ?? ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"]
            if let socketPath, !socketPath.isEmpty {
                if try authenticateWithAgent(socketPath: socketPath, attempts: &attempts) { return }
            } else {
                attempts.append((nil, "ssh-agent: SSH_AUTH_SOCK is not set"))
            }
        }
        let defaults = ["~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa"].map(expandTilde)
        let files = config.identityFiles.isEmpty
            ? defaults.filter { FileManager.default.fileExists(atPath: $0) }
            : config.identityFiles.map(expandTilde)
        if files.isEmpty { attempts.append((nil, "no identity file (none of \(defaults.joined(separator: ", ")) exists)")) }
        for file in files {
            if try authenticateWithFile(file, attempts: &attempts) { return }
        }
        var message = "no key was accepted for \(user): " + attempts.map(\.text).joined(separator: "; ")
        if attempts.contains(where: { $0.keyType == "ssh-rsa" }) {
            message += ". server refused ssh-rsa signatures; use an ed25519 or ECDSA key "
                + "(libssh2 \(libssh2Version) signs RSA keys with SHA-1 only, which OpenSSH 8.8+ refuses)"
        }
        throw error(.auth, message)
    }

    private func authenticateWithAgent(socketPath: String,
                                       attempts: inout [(keyType: String?, text: String)]) throws -> Bool {
        guard let agent = libssh2_agent_init(session) else {
            attempts.append((nil, "ssh-agent: \(lastError())"))
            return false
        }
        defer {
            libssh2_agent_disconnect(agent)
            libssh2_agent_free(agent)
        }
        libssh2_agent_set_identity_path(agent, socketPath)
        guard libssh2_agent_connect(agent) == 0 else {
            attempts.append((nil, "ssh-agent at \(socketPath): \(lastError())"))
            return false
        }
        guard libssh2_agent_list_identities(agent) == 0 else {
            attempts.append((nil, "ssh-agent at \(socketPath): listing keys: \(lastError())"))
            return false
        }
        let deadline = Deadline.after(config.connectTimeout)
        var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
        var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
        var offered = 0
        while libssh2_agent_get_identity(agent, &identity, previous) == 0, let current = identity {
            offered += 1
            let blob = [UInt8](UnsafeBufferPointer(start: current.pointee.blob, count: Int(current.pointee.blob_len)))
            let keyType = keyTypeName(ofKeyBlob: blob)
            let rc = try retry(deadline, .auth, "agent authentication") {
                libssh2_agent_userauth(agent, config.user, current)
            }
            if rc == 0 { return true }
            let comment = current.pointee.comment.map { String(cString: $0) } ?? ""
            attempts.append((keyType, "ssh-agent key \(keyType ?? "?") \(sha256Fingerprint(ofKeyBlob: blob)) "
                + "\(comment): \(lastError(rc))"))
            previous = current
        }
        if offered == 0 { attempts.append((nil, "ssh-agent at \(socketPath) holds no keys")) }
        return false
    }

    private func authenticateWithFile(_ path: String,
                                      attempts: inout [(keyType: String?, text: String)]) throws -> Bool {
        guard let contents = FileManager.default.contents(atPath: path) else {
            attempts.append((nil, "\(path): cannot read"))
            return false
        }
        let info = PrivateKeyInfo(pem: String(decoding: contents, as: UTF8.self))
        var passphrase: String?
        if info.encrypted {
            passphrase = config.passphrase
                ?? ProcessInfo.processInfo.environment["CLUSTERCTL_SSH_PASSPHRASE"]
                ?? PassphrasePrompt.shared.ask(for: path)
            if passphrase == nil {
                attempts.append((info.keyType, "\(path) is encrypted and no passphrase was given "
                    + "(set CLUSTERCTL_SSH_PASSPHRASE or run on a terminal)"))
                return false
            }
        }
        let deadline = Deadline.after(config.connectTimeout)
        let user = config.user
        let rc = try retry(deadline, .auth, "public key authentication") {
            libssh2_userauth_publickey_fromfile_ex(session, user, UInt32(user.utf8.count), nil, path, passphrase)
        }
        if rc == 0 { return true }
        var text = "\(path) (\(info.keyType ?? "unknown key type")): \(lastError(rc))"
        if rc == LIBSSH2_ERROR_FILE && info.encrypted { text += " (wrong passphrase?)" }
        attempts.append((info.keyType, text))
        return false
    }
}

/// What a private key file is, read from its text without decrypting it.
struct PrivateKeyInfo: Equatable {
    var keyType: String?
    var encrypted: Bool

    init(pem: String) {
        keyType = nil
        encrypted = false
        if pem.contains("BEGIN OPENSSH PRIVATE KEY") {
            let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
            guard let bytes = Base64.decode(body) else { return }
            // "openssh-key-v1\0", string cipher, string kdf, string kdf options, uint32 count, string public key
            var reader = SSHWireReader(bytes: bytes, offset: 15)
            guard Array(bytes.prefix(15)) == Array("openssh-key-v1\0".utf8),
                  let cipher = reader.string(), reader.string() != nil, reader.string() != nil,
                  reader.uint32() != nil, let publicKey = reader.string() else { return }
            encrypted = String(decoding: cipher, as: UTF8.self) != "none"
            keyType = keyTypeName(ofKeyBlob: publicKey)
        } else {
            if pem.contains("BEGIN RSA PRIVATE KEY") { keyType = "ssh-rsa" }
            if pem.contains("BEGIN EC PRIVATE KEY") { keyType = "ecdsa" }
            encrypted = pem.contains("Proc-Type: 4,ENCRYPTED") || pem.contains("BEGIN ENCRYPTED PRIVATE KEY")
        }
    }
}

struct SSHWireReader {
    var bytes: [UInt8]
    var offset: Int

    mutating func uint32() -> UInt32? {
        guard offset + 4 <= bytes.count else { return nil }
        defer { offset += 4 }
        return bytes[offset..<(offset + 4)].reduce(0) { ($0 << 8) | UInt32($1) }
    }

    mutating func string() -> [UInt8]? {
        guard let length = uint32().map(Int.init), offset + length <= bytes.count else { return nil }
        defer { offset += length }
        return Array(bytes[offset..<(offset + length)])
    }
}

/// Asks for key passphrases on the controlling terminal, one prompt at a time however many connections
/// need one, and remembers each answer for the process's lifetime.
final class PassphrasePrompt: @unchecked Sendable {
    static let shared = PassphrasePrompt()
    private let lock = NSLock()
    private var answers: [String: String] = [:]

    func ask(for path: String) -> String? {
        lock.lock()
        defer { lock.unlock() }
        if let known = answers[path] { return known }
        let tty = Glibc.open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard tty >= 0 else { return nil }
        Glibc.close(tty)
        guard let answer = getpass("Enter passphrase for key '\(path)': ") else { return nil }
        let text = String(cString: answer)
        answers[path] = text
        return text
    }
}
