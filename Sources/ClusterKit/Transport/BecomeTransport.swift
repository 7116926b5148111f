/// Runs everything through sudo for a login user that is not root (cloud images log in as `debian`, `rocky`,
/// `ec2-user`), on top of any transport. Commands become `sudo … /bin/sh -c COMMAND`; uploads go to a private
/// temporary file of the login user and are moved into place by root, so `RemoteFileWriter`'s atomic write,
/// owners and modes work as they do for root.
///
/// How sudo is asked is settled once per connection by `probe`: non-interactively (`-n`) where the sudoers
/// rule needs no password, else with the password on stdin (`-S`, first line, `-k` so a cached credential can
/// never leave the password line for the command to read). The password is only ever written to sudo's
/// stdin: never into a command line, output or error.
public struct BecomeTransport: HostTransport {
    public enum Mode: Sendable, Equatable {
        case passwordless
        case password(String)
    }

    let base: HostTransport
    let mode: Mode

    /// Finds out how sudo can be used on this connection, or throws a `BecomeError` saying why it cannot.
    /// `password` is asked only when sudo wants one (`BecomePassword` asks the operator at most once per run).
    public static func probe(_ base: HostTransport, host: String,
                             password: @Sendable () async -> String?) async throws -> BecomeTransport {
        let quiet = try await base.run("sudo -n -- /bin/sh -c 'exit 0'", stdin: [])
        if quiet.succeeded { return BecomeTransport(base: base, mode: .passwordless) }
        let why = quiet.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
        if why.contains("must have a tty") || why.contains("requiretty") {
            throw BecomeError(host: host, message: "sudo requires a terminal on this host (sudoers `Defaults requiretty`); "
                              + "remove requiretty for this user (`Defaults:USER !requiretty`)")
        }
        guard why.contains("password is required") || why.contains("a password") else {
            throw BecomeError(host: host, message: "sudo does not work for this user: " + (why.isEmpty ? "exit \(quiet.exitStatus)" : why)
                              + Self.nextForNoRights)
        }
        guard let password = await password() else {
            throw BecomeError(host: host, message: "sudo wants a password; run clusterctl on a terminal to be asked once, "
                              + "or set CLUSTERCTL_BECOME_PASSWORD")
        }
        let transport = BecomeTransport(base: base, mode: .password(password))
        let check = try await transport.run("exit 0", stdin: [])
        guard check.succeeded else {
            let text = check.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
            throw BecomeError(host: host, message: text.contains("incorrect password") || text.contains("Sorry, try again")
                              ? "the sudo password was not accepted. Next: give the login user's password on this host "
                                  + "(CLUSTERCTL_BECOME_PASSWORD, or typed when asked)"
                              : "sudo does not work for this user: \(text)" + Self.nextForNoRights)
        }
        return transport
    }

    private static let nextForNoRights = ". Next: give the login user sudo rights on the host (sudoers), "
        + "or log in as root (ssh.user) without ssh.become"

    public func run(_ command: String, stdin: [UInt8]) async throws -> CommandResult {
        switch mode {
        case .passwordless:
            return try await base.run("sudo -n -- /bin/sh -c " + ShellQuote.quote(command), stdin: stdin)
        case .password(let password):
            // -p '': no prompt text in the output; the first line of stdin is the password, the rest the command's.
            return try await base.run("sudo -k -S -p '' -- /bin/sh -c " + ShellQuote.quote(command),
                                      stdin: Array(password.utf8) + [10] + stdin)
        }
    }

    /// To a 0600 file of the login user under /tmp, then `install` by root (mode set as it lands), then gone.
    public func upload(_ data: [UInt8], to path: String, mode: Int32) async throws {
        let staging = "/tmp/.clusterctl-upload-" + String(UInt64.random(in: .min ... .max), radix: 16)
        try await base.upload(data, to: staging, mode: 0o600)
        let s = ShellQuote.quote(staging)
        let result = try await run("install -m \(String(mode, radix: 8)) \(s) \(ShellQuote.quote(path)); rc=$?; rm -f \(s); exit $rc",
                                   stdin: [])
        guard result.succeeded else {
            _ = try? await base.run("rm -f \(s)", stdin: [])
            throw BecomeError(host: "", message: "moving the upload to \(path) failed: \(result.stderrText)")
        }
    }

    public func close() async {
        await base.close()
    }

    public var sshPort: Int? { base.sshPort }
}

public struct BecomeError: Error, CustomStringConvertible, Equatable {
    public var host: String
    public var message: String
    public var description: String { (host.isEmpty ? "" : "\(host): ") + "become (sudo): \(message)" }
}

/// The sudo password for a whole run: `CLUSTERCTL_BECOME_PASSWORD`, or asked once through `prompt` (a TTY),
/// the first time a host wants it; every other host gets the same answer.
public actor BecomePassword {
    private let prompt: (@Sendable () -> String?)?
    private var answer: String??

    public init(environment: String?, prompt: (@Sendable () -> String?)?) {
        self.prompt = prompt
        answer = environment.map { .some($0) }
    }

    public func password() -> String? {
        if let answer { return answer }
        let asked = prompt?()
        answer = .some(asked)
        return asked
    }
}
