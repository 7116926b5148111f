import Foundation
import Testing
@testable import SSH

@Suite("upload against a real sshd (SFTP, and SCP when the server has no sftp subsystem)")
struct UploadTests {
    @Test(arguments: [true, false])
    func uploadsEmptyLargeAndReplacesWithMode(sftp: Bool) async throws {
        try await withSSHServer(sftp: sftp) { server in
            let connection = try await server.connect()
            let dir = server.directory + "/uploads"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)

            try await connection.upload([], to: dir + "/empty", mode: 0o644)
            #expect(await connection.lastUploadMethod == (sftp ? "sftp" : "scp"))
            #expect(try await text(connection, "stat -c '%s %a' \(dir)/empty") == "0 644")

            var big = [UInt8](repeating: 0, count: 5 * 1024 * 1024)
            for index in big.indices { big[index] = UInt8(truncatingIfNeeded: index &* 131 &+ index >> 9) }
            try await connection.upload(big, to: dir + "/big", mode: 0o640)
            #expect(try await connection.exec("cat \(dir)/big").stdout == big)
            #expect(try await text(connection, "stat -c '%a' \(dir)/big") == "640")

            // An existing, longer, world-readable file: truncated and made 0600.
            try String(repeating: "old contents ", count: 100).write(toFile: dir + "/secret", atomically: false, encoding: .utf8)
            chmod(dir + "/secret", 0o644)
            try await connection.upload(Array("new\n".utf8), to: dir + "/secret", mode: 0o600)
            #expect(try await text(connection, "stat -c '%s %a' \(dir)/secret; cat \(dir)/secret") == "4 600\nnew")

            let unicodePath = dir + "/grüße ✓.txt"
            try await connection.upload(Array("ü".utf8), to: unicodePath, mode: 0o644)
            #expect(try Data(contentsOf: URL(fileURLWithPath: unicodePath)) == Data("ü".utf8))
            await connection.close()
        }
    }

    @Test(arguments: [true, false])
    func uploadToAMissingDirectoryNamesThePath(sftp: Bool) async throws {
        try await withSSHServer(sftp: sftp) { server in
            let connection = try await server.connect()
            let error = await #expect(throws: SSHError.self) {
                try await connection.upload([1, 2, 3], to: server.directory + "/no/such/dir/file", mode: 0o644)
            }
            #expect(error?.step == .upload)
            #expect(error?.message.contains("/no/such/dir/file") == true)
            await connection.close()
        }
    }

    private func text(_ connection: SSHConnection, _ command: String) async throws -> String {
        let result = try await connection.exec(command)
        #expect(result.exitStatus == 0, "\(command): \(String(decoding: result.stderr, as: UTF8.self))")
        return String(decoding: result.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
