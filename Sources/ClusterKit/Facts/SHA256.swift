import SSH

/// SHA-256 as lowercase hex, used for facts fingerprints in saved plans: libcrypto's, through the SSH module
/// (libssh2 is built on it), so the project carries one SHA-256 implementation.
public enum SHA256 {
    public static func hex(_ data: [UInt8]) -> String {
        sha256Digest(data).map { byte in
            let s = String(byte, radix: 16)
            return byte < 16 ? "0" + s : s
        }.joined()
    }
}
