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
        #expect(commands[0].hasSuffix(" && rm -f /etc/sysconfig/.memcached.clusterctl-tmp-*; } || { rm -f "
                                      + (await transport.uploads)[0].path + "; exit 1; }"))
        let files = await transport.files
        #expect(files.keys.sorted() == [
            "/etc/sysconfig/.iptables.clusterctl-tmp-9", "/etc/sysconfig/memcached",
            "/etc/sysconfig/memcached.clusterctl-bak", "/etc/sysconfig/memcached.clusterctl-tmp-notes",
        ])
        #expect(files["/etc/sysconfig/memcached"]?.contents == change.newContents)
    }

    /// The prefix is quoted as a shell word and only the `*` is left to the shell's globbing.
    @Test func prefixWithSpacesIsQuotedBeforeTheGlob() {
        let command = RemoteFileWriter.commitCommand(path: "/srv/my site/php.ini", temporary: "/srv/my site/.php.ini.clusterctl-tmp-1",
                                                     mode: 0o644, owner: "root", group: "root")
        #expect(command.contains(" && rm -f '/srv/my site/.php.ini.clusterctl-tmp-'*; }"))
    }
}
