/// An SSH failure: which host, at which step, and what went wrong in libssh2's (or the system's) own words.
public struct SSHError: Error, CustomStringConvertible, Sendable {
    public enum Step: String, Sendable {
        case connect, handshake, hostKey = "host key", auth, exec, upload
    }

    public var host: String
    public var port: Int
    public var step: Step
    public var message: String

    public init(host: String, port: Int, step: Step, message: String) {
        self.host = host
        self.port = port
        self.step = step
        self.message = message
    }

    public var description: String {
        let text = "ssh \(host):\(port): \(step.rawValue) failed: \(message)"
        return nextStep.map { text + (text.hasSuffix(".") ? " " : ". ") + "Next: " + $0 } ?? text
    }

    /// What the operator can do about it, in SSH's terms (the module knows nothing of clusters). Host-key
    /// failures and a refused RSA key already say it in their message.
    public var nextStep: String? {
        switch step {
        case .connect:
            if message.contains("jump host") { return "check the jump host (ssh.jumpHost) and that it may reach \(host):\(port)" }
            return "check that \(host) is up and that sshd listens on port \(port) (from here: nc -zv \(host) \(port))"
        case .handshake:
            return "the server's sshd log says which algorithms it wanted; libssh2 \(libssh2Version) needs an "
                + "ed25519 or ECDSA host key and curve25519/ECDH key exchange"
        case .hostKey:
            return nil
        case .auth:
            if message.contains("use an ed25519") { return nil }
            return "check the login user and key (ssh.user, ssh.identityFiles, ssh-agent): "
                + "`ssh -p \(port) USER@\(host) true` must log in without asking for a password"
        case .exec, .upload:
            return "the connection broke or the host stopped answering; run the command again (-v shows each remote command)"
        }
    }
}
