/// Everything wrong with one inventory file, reported at once so the operator fixes it in one pass.
public struct InventoryError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        /// JSON path of the offending value, e.g. `hosts.web2.privateAddress`; `(root)` for the document itself.
        public var path: String
        /// Where the value (or, for an unknown key, the key) was written; nil when the file could not be read
        /// or the problem is about something missing from an object that has no position of its own.
        public var position: SourcePosition?
        public var message: String

        public init(path: String, position: SourcePosition?, message: String) {
            self.path = path
            self.position = position
            self.message = message
        }

        public var description: String { "\(path): \(message)" }
    }

    /// The inventory file as named by the user.
    public var file: String
    /// In document order.
    public var problems: [Problem]

    public init(file: String, problems: [Problem]) {
        self.file = file
        self.problems = problems
    }

    /// One line per problem, compiler style: `inventory.json:12:5: hosts.web2.privateAddress: ...`.
    public var description: String {
        problems.map { problem in
            let location = problem.position.map { "\(file):\($0.line):\($0.column)" } ?? file
            return "\(location): \(problem.path): \(problem.message)"
        }.joined(separator: "\n")
    }
}
