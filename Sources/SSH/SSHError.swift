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
        "ssh \(host):\(port): \(step.rawValue) failed: \(message)"
    }
}
