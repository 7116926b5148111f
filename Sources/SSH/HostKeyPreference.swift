import CLibSSH2
import Foundation

/// OpenSSH's client asks for the host key types known_hosts already holds for a host before any other
/// (order_hostkeyalgs in sshconnect2.c); libssh2 1.10 always prefers ECDSA. Without this, a server with both
/// an ECDSA and an ed25519 key, known only by its ed25519 key (what `ssh` records first on Debian), presents
/// ECDSA and strict checking refuses it as unknown although `ssh` connects fine.
enum HostKeyPreference {
    /// Key types of the usable (not revoked, not CA) entries for `hostName`, in file order, without repeats.
    static func knownTypes(in file: KnownHostsFile, hostName: String) -> [String] {
        var types: [String] = []
        for entry in file.entries where entry.marker == .none && entry.matches(hostName: hostName) {
            if !types.contains(entry.keyType) { types.append(entry.keyType) }
        }
        return types
    }

    /// `supported` (libssh2's default order) with the known types moved to the front. Among themselves the
    /// known types keep libssh2's order, as OpenSSH keeps its default order. nil: nothing to change.
    static func order(supported: [String], known: [String]) -> [String]? {
        let first = supported.filter { known.contains($0) }
        guard !first.isEmpty else { return nil }
        return first + supported.filter { !known.contains($0) }
    }
}

extension LibSSH2Session {
    /// Sets the host key method preference before the handshake. Strictness does not change: the key the
    /// server then presents is checked by `checkHostKey` as before. Problems reading known_hosts are left to
    /// that check, which reports them.
    func preferKnownHostKeyTypes(_ session: OpaquePointer) {
        guard let file = try? KnownHostsFile.load(path: expandTilde(config.knownHostsFile)) else { return }
        let known = HostKeyPreference.knownTypes(in: file, hostName: config.knownHostsName)
        guard !known.isEmpty else { return }
        var algorithms: UnsafeMutablePointer<UnsafePointer<CChar>?>?
        let count = libssh2_session_supported_algs(session, LIBSSH2_METHOD_HOSTKEY, &algorithms)
        guard count > 0, let algorithms else { return }
        defer { libssh2_free(session, algorithms) }
        let supported = (0..<Int(count)).compactMap { algorithms[$0].map { String(cString: $0) } }
        guard let ordered = HostKeyPreference.order(supported: supported, known: known) else { return }
        _ = libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, ordered.joined(separator: ","))
    }
}
