/// A template that cannot be used: unreadable, unparsable, naming a value the context does not have, or
/// rendering something that is not what its consumer expects (php.ini lines, iptables rules).
public struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The template file as the user knows it: the override's path, or the bundled file's name.
    public var file: String
    /// 1-based line in the template, when the problem has one.
    public var line: Int?
    public var message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        line.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)"
    }
}
