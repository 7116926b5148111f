import Foundation
import Testing
@testable import SSH

/// `KnownHostsFile.load` parses a file once per version of it: a changed file (appended to, replaced) is read
/// again, and so is one written too recently to tell a later same-sized write from it.
@Suite("known_hosts cache (unit)")
struct KnownHostsCacheTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("known_hosts-\(UUID().uuidString)").path
    let line = "a.example ssh-ed25519 \(KnownHostsParserTests.key)\n"

    private func write(_ text: String, age: TimeInterval) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -age)], ofItemAtPath: path)
    }

    @Test func aChangedFileIsReadAgain() throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try KnownHostsFile.load(path: path).entries.isEmpty)   // missing: empty
        try write(line, age: 3600)
        // setAttributes moved ctime to now: wait until this version counts as settled, then cache it.
        Thread.sleep(forTimeInterval: 2.1)
        #expect(try KnownHostsFile.load(path: path).entries.map(\.line) == [1])
        #expect(try KnownHostsFile.load(path: path).entries.map(\.line) == [1])
        try write(line + line.replacingOccurrences(of: "a.example", with: "b.example"), age: 3600)
        #expect(try KnownHostsFile.load(path: path).entries.map(\.line) == [1, 2])
        try FileManager.default.removeItem(atPath: path)
        #expect(try KnownHostsFile.load(path: path).entries.isEmpty)
    }

    /// Same size, same times, other contents: only possible within the timestamps' granularity, which is
    /// why a version younger than that is not cached.
    @Test func aFreshFileIsNotCached() throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        try write(line, age: 0)
        #expect(try KnownHostsFile.load(path: path).entries.first?.hosts == .patterns(["a.example"]))
        try write(line.replacingOccurrences(of: "a.example", with: "b.example"), age: 0)
        #expect(try KnownHostsFile.load(path: path).entries.first?.hosts == .patterns(["b.example"]))
    }
}
