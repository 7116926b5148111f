import Foundation
import Testing
@testable import ClusterKit

/// A run killed between uploading a file's temporary copy and moving it over the file leaves
/// `.NAME.clusterctl-tmp-*` behind; the next write of that file removes them (issue 14).
@Suite struct StaleTemporaryFileTests {
    @Test func writingAFileRemovesItsStaleTemporariesAndNothingElse() async throws {
        let transport = InMemoryTransport()
        let old = RemoteFile(contents: Array("PORT=\"11211\"\n".utf8), mode: 0o644, owner: "root", group: "root")
        let leftover = RemoteFile(contents: Array("half".utf8), mode: 0o600, owner: "root", group: "root")
        await transport.configure { transport in
            transport.files["/etc/sysconfig/memcached"] = old
            transport.files["/etc/sysconfig/.memcached.clusterctl-tmp-1a2b3c"] = leftover
            transport.files["/etc/sysconfig/.memcached.clusterctl-tmp-ffff"] = leftover
            // Another file's leftover is that file's write to remove; a user's file is never ours.
            transport.files["/etc/sysconfig/.iptables.clusterctl-tmp-9"] = leftover
            transport.files["/etc/sysconfig/memcached.clusterctl-tmp-notes"] = leftover
        }
        let change = FileChange(path: "/etc/sysconfig/memcached", exists: true, newContents: Array("PORT=\"11311\"\n".utf8),
                                mode: 0o644, owner: "root", group: "root", diff: "")
        try await RemoteFileWriter.write(change, transport: transport)

        let commands = await transport.commands
        try #require(commands.count == 1)
        #expect(commands[0].hasSuffix(" && " + RemoteFileWriter.removeTemporariesCommand(for: "/etc/sysconfig/memcached")
                                      + "; } || { rm -f "
                                      + (await transport.uploads)[0].path + "; exit 1; }"))
        let files = await transport.files
        #expect(files.keys.sorted() == [
            "/etc/sysconfig/.iptables.clusterctl-tmp-9", "/etc/sysconfig/memcached",
            "/etc/sysconfig/memcached.clusterctl-bak", "/etc/sysconfig/memcached.clusterctl-tmp-notes",
        ])
        #expect(files["/etc/sysconfig/memcached"]?.contents == change.newContents)
    }

    /// The prefix is quoted as a shell word and only the `*` is left to the shell's globbing; the real shell
    /// removes every temporary of the file, keeps everything else, and succeeds when there is none.
    @Test func prefixWithSpacesIsQuotedBeforeTheGlob() throws {
        let command = RemoteFileWriter.commitCommand(path: "/srv/my site/php.ini", temporary: "/srv/my site/.php.ini.clusterctl-tmp-1",
                                                     mode: 0o644, owner: "root", group: "root")
        #expect(command.contains(" && for t in '/srv/my site/.php.ini.clusterctl-tmp-'*; do "))

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cct stale \(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("php.ini").path
        let keep = ["php.ini", "php.ini.clusterctl-tmp-notes", ".other.clusterctl-tmp-1"]
        for name in keep + [".php.ini.clusterctl-tmp-1a", ".php.ini.clusterctl-tmp-ff"] {
            try Data("x".utf8).write(to: directory.appendingPathComponent(name))
        }
        func sh() throws -> Int32 {
            let shell = Process()
            shell.executableURL = URL(fileURLWithPath: "/bin/sh")
            shell.arguments = ["-c", RemoteFileWriter.removeTemporariesCommand(for: path)]
            try shell.run()
            shell.waitUntilExit()
            return shell.terminationStatus
        }
        #expect(try sh() == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == keep.sorted())
        #expect(try sh() == 0, "nothing left to remove is no failure")
    }
}
