import Foundation
import Testing
@testable import SSH

/// Vectors: RFC 2202 / FIPS 180-2, and a key plus hashed lines produced by OpenSSH 9.2's ssh-keygen
/// (`ssh-keygen -l -E sha256`, `ssh-keygen -H`).
@Suite("known_hosts parsing and fingerprints (unit)")
struct KnownHostsParserTests {
    static let key = "AAAAC3NzaC1lZDI1NTE5AAAAIBE546nYKs5Q2nycKgbG8WN/VJmaSZYjIIROnXM8H5wh"
    static let otherKey = "AAAAC3NzaC1lZDI1NTE5AAAAIGzm2IsHzahk2mVvyjBXxc0OiHJDgbjapnbXcJV0M22H"
    var blob: [UInt8] { Base64.decode(Self.key)! }

    private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test func cryptoVectors() {
        #expect(hex(Crypto.hmacSHA1(key: [UInt8](repeating: 0x0b, count: 20), data: Array("Hi There".utf8)))
            == "b617318655057264e28bc0b6fb378c8ef146be00")
        #expect(hex(Crypto.sha256(Array("abc".utf8)))
            == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func fingerprintIsOpenSSHStyle() {
        #expect(sha256Fingerprint(ofKeyBlob: blob) == "SHA256:lnfuMMXIOPXa4H+Mfh1xbFWATXRDul+zZx+4V53WY7k")
        #expect(keyTypeName(ofKeyBlob: blob) == "ssh-ed25519")
    }

    @Test func hashedLinesFromOpenSSHMatchOnlyTheirHost() {
        let file = KnownHostsFile.parse("""
            |1|JCDy6tNXQr4IoHNgWjXBIoKRruE=|9bjuLFLSW1gCQ9IUvcyhtdq2A8w= ssh-ed25519 \(Self.key)
            |1|gIBGYGF1gMwKSc3A0Atkl7rH2f4=|RBHCx+f4Nu8it/t4fR//CAo2uek= ssh-ed25519 \(Self.key)
            """, file: "kh")
        #expect(file.warnings.isEmpty)
        #expect(file.entries.count == 2)
        #expect(file.entries[0].matches(hostName: "example.com"))
        #expect(file.entries[0].matches(hostName: "EXAMPLE.com"))
        #expect(!file.entries[0].matches(hostName: "example.org"))
        #expect(file.entries[1].matches(hostName: "[10.0.0.1]:2222"))
        #expect(!file.entries[1].matches(hostName: "10.0.0.1"))
    }

    @Test func plainPatternsCommaListsPortsWildcardsAndNegation() {
        let file = KnownHostsFile.parse("""
            # a comment

            web1,10.0.0.5,[10.0.0.5]:2222 ssh-ed25519 \(Self.key) comment here
            *.example.com,!bad.example.com\tssh-ed25519 \(Self.key)
            db? ssh-ed25519 \(Self.key)
            """, file: "kh")
        #expect(file.warnings.isEmpty)
        let (list, wildcard, single) = (file.entries[0], file.entries[1], file.entries[2])
        #expect(list.line == 3 && wildcard.line == 4 && single.line == 5)
        #expect(list.matches(hostName: "web1") && list.matches(hostName: "10.0.0.5"))
        #expect(list.matches(hostName: "[10.0.0.5]:2222") && !list.matches(hostName: "[10.0.0.5]:2223"))
        #expect(wildcard.matches(hostName: "a.example.com") && !wildcard.matches(hostName: "bad.example.com"))
        #expect(!wildcard.matches(hostName: "example.com"))
        #expect(single.matches(hostName: "db1") && !single.matches(hostName: "db12"))
    }

    @Test func unparseableLinesAreSkippedWithWarningsAndTheRestIsKept() {
        let file = KnownHostsFile.parse("""
            garbage
            host ssh-ed25519 !!!notbase64!!!
            host ssh-rsa \(Self.key)
            |1|onlysalt ssh-ed25519 \(Self.key)
            @weird host ssh-ed25519 \(Self.key)
            good ssh-ed25519 \(Self.key)
            """, file: "/etc/kh")
        #expect(file.entries.map(\.line) == [6])
        #expect(file.warnings.count == 5)
        #expect(file.warnings[0].hasPrefix("/etc/kh:1: skipped"))
        #expect(file.warnings[2].contains("does not match the key data"))
    }

    @Test func verdictsUseTheKeyType() {
        let other = Base64.decode(Self.otherKey)!
        let file = KnownHostsFile.parse("""
            h1 ssh-ed25519 \(Self.key)
            h2 ssh-ed25519 \(Self.otherKey)
            @revoked * ssh-ed25519 \(Self.otherKey)
            """, file: "kh")
        #expect(HostKeyVerdict.evaluate(file, hostName: "h1", keyType: "ssh-ed25519", keyBlob: blob)
            == .match(file.entries[0]))
        #expect(HostKeyVerdict.evaluate(file, hostName: "h2", keyType: "ssh-ed25519", keyBlob: blob)
            == .mismatch([file.entries[1]]))
        #expect(HostKeyVerdict.evaluate(file, hostName: "h1", keyType: "ecdsa-sha2-nistp256", keyBlob: [1])
            == .unknown(otherTypes: [file.entries[0]]))
        #expect(HostKeyVerdict.evaluate(file, hostName: "h3", keyType: "ssh-ed25519", keyBlob: blob)
            == .unknown(otherTypes: []))
        #expect(HostKeyVerdict.evaluate(file, hostName: "h2", keyType: "ssh-ed25519", keyBlob: other)
            == .revoked(file.entries[2]))
    }

    @Test func writtenHashedLineParsesAndMatches() {
        let line = KnownHostsFile.hashedLine(hostName: "[127.0.0.1]:2200", keyType: "ssh-ed25519", keyBlob: blob)
        let file = KnownHostsFile.parse(line, file: "kh")
        #expect(file.warnings.isEmpty)
        #expect(file.entries.first?.matches(hostName: "[127.0.0.1]:2200") == true)
        #expect(file.entries.first?.matches(hostName: "127.0.0.1") == false)
    }

    @Test func privateKeyInfoReadsTypeAndEncryption() throws {
        let directory = try makeTemporaryDirectory("clusterctl-keyinfo")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (type, passphrase, expected) in [("ed25519", "", "ssh-ed25519"), ("ecdsa", "pw", "ecdsa-sha2-nistp256")] {
            try runTool("/usr/bin/ssh-keygen", ["-q", "-t", type, "-N", passphrase, "-f", "\(directory)/\(type)"])
            let info = PrivateKeyInfo(pem: try String(contentsOfFile: "\(directory)/\(type)", encoding: .utf8))
            #expect(info.keyType == expected && info.encrypted == !passphrase.isEmpty)
        }
    }
}
