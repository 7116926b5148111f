import CLibSSH2
import Foundation

/// libcrypto's first initialisation, which must come before any other use of it (libssh2's included): it
/// tells OpenSSL not to free its global state from an atexit handler. That handler ran while threads that had
/// used libcrypto were still ending, and the controller crashed (SIGSEGV in libcrypto) as it exited after a
/// successful apply, about once in 60 runs. The process's memory goes away at exit anyway.
let libcryptoInitialized: Bool = clusterctl_crypto_init() == 1

/// The few primitives known_hosts needs, from the libcrypto libssh2 itself is built on.
enum Crypto {
    static func sha256(_ data: [UInt8]) -> [UInt8] {
        _ = libcryptoInitialized
        var digest = [UInt8](repeating: 0, count: 32)
        data.withUnsafeBufferPointer { input in
            clusterctl_sha256(input.baseAddress, input.count, &digest)
        }
        return digest
    }

    static func hmacSHA1(key: [UInt8], data: [UInt8]) -> [UInt8] {
        _ = libcryptoInitialized
        var digest = [UInt8](repeating: 0, count: 20)
        let ok = key.withUnsafeBufferPointer { keyBuffer in
            data.withUnsafeBufferPointer { input in
                clusterctl_hmac_sha1(keyBuffer.baseAddress, Int32(keyBuffer.count), input.baseAddress, input.count,
                                     &digest)
            }
        }
        precondition(ok != 0, "HMAC-SHA1 failed in libcrypto")
        return digest
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        _ = libcryptoInitialized
        var bytes = [UInt8](repeating: 0, count: count)
        if clusterctl_random_bytes(&bytes, Int32(count)) == 0 {
            var generator = SystemRandomNumberGenerator()
            for index in bytes.indices { bytes[index] = generator.next() }
        }
        return bytes
    }
}

enum Base64 {
    static func encode(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        Data(base64Encoded: String(text)).map { [UInt8]($0) }
    }
}

/// OpenSSH's fingerprint format: "SHA256:" and the unpadded base64 of the SHA-256 of the key blob.
/// SHA-256 of `data` (libcrypto), for callers that need a digest without a crypto package of their own.
public func sha256Digest(_ data: [UInt8]) -> [UInt8] {
    Crypto.sha256(data)
}

public func sha256Fingerprint(ofKeyBlob blob: [UInt8]) -> String {
    var encoded = Base64.encode(Crypto.sha256(blob))
    while encoded.hasSuffix("=") { encoded.removeLast() }
    return "SHA256:" + encoded
}

/// The key type name an SSH public key blob starts with (its first length-prefixed string), e.g. "ssh-ed25519".
func keyTypeName(ofKeyBlob blob: [UInt8]) -> String? {
    guard blob.count >= 4 else { return nil }
    let length = blob[0..<4].reduce(0) { ($0 << 8) | Int($1) }
    guard length > 0, length <= blob.count - 4 else { return nil }
    return String(bytes: blob[4..<(4 + length)], encoding: .utf8)
}
