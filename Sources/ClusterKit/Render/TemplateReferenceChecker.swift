/// Finds every name a Mustache template refers to, with its line, and checks it against the context shape.
///
/// swift-mustache renders a missing name as an empty string and keeps its parsed tokens private, so this
/// walks the template text itself. It runs after swift-mustache has parsed the template, so the text is known
/// to be well formed; it only has to follow tags, sections and delimiter changes.
enum TemplateReferenceChecker {
    static func check(_ text: String, file: String, shape: [String: TemplateShape]) throws(TemplateError) {
        let chars = Array(text)
        var open: [Character] = ["{", "{"]
        var close: [Character] = ["}", "}"]
        var scopes: [[String: TemplateShape]] = [shape]
        var listDepth = 0
        var listScopes: [Bool] = []
        var index = 0
        var line = 1

        func matches(_ pattern: [Character], at position: Int) -> Bool {
            position + pattern.count <= chars.count && Array(chars[position..<position + pattern.count]) == pattern
        }

        while index < chars.count {
            if chars[index] == "\n" { line += 1; index += 1; continue }
            guard matches(open, at: index) else { index += 1; continue }
            let tagLine = line
            var contentStart = index + open.count
            var closer = close
            if open == ["{", "{"], contentStart < chars.count, chars[contentStart] == "{" {
                closer = ["}", "}", "}"]  // triple mustache
                contentStart += 1
            }
            var end = contentStart
            while end < chars.count, !matches(closer, at: end) { end += 1 }
            let content = String(chars[contentStart..<min(end, chars.count)])
            line += content.filter { $0 == "\n" }.count
            index = min(end + closer.count, chars.count)

            let trimmed = content.trimmingWhitespace
            guard let sigil = trimmed.first else { continue }
            let rest = String(trimmed.dropFirst()).trimmingWhitespace
            switch sigil {
            case "!", "%":
                continue  // comment, pragma
            case "=":
                let parts = rest.dropLast().split(whereSeparator: { $0 == " " || $0 == "\t" })
                if parts.count == 2 { open = Array(parts[0]); close = Array(parts[1]) }
            case ">", "<", "$", "+":
                throw TemplateError(file: file, line: tagLine,
                                    message: "partials and template inheritance are not supported ({{\(trimmed)}})")
            case "#", "^":
                let found = try resolve(rest, scopes: scopes, inList: listDepth > 0, file: file, line: tagLine)
                if sigil == "#", case .list(let fields) = found {
                    scopes.append(fields)
                    listDepth += 1
                    listScopes.append(true)
                } else {
                    scopes.append([:])
                    listScopes.append(false)
                }
            case "/":
                if scopes.count > 1 { scopes.removeLast() }
                if listScopes.popLast() == true { listDepth -= 1 }
            case "&", "{":
                _ = try resolve(rest, scopes: scopes, inList: listDepth > 0, file: file, line: tagLine)
            default:
                _ = try resolve(trimmed, scopes: scopes, inList: listDepth > 0, file: file, line: tagLine)
            }
        }
    }

    /// The shape a tag's name refers to. `.` is the current item; `first()`-style names without an argument are
    /// swift-mustache's sequence transforms (first, last, index, even, odd), valid inside a list.
    private static func resolve(_ rawName: String, scopes: [[String: TemplateShape]], inList: Bool,
                                file: String, line: Int) throws(TemplateError) -> TemplateShape? {
        var name = rawName
        if let open = name.firstIndex(of: "("), name.last == ")" {
            let argument = String(name[name.index(after: open)..<name.index(before: name.endIndex)]).trimmingWhitespace
            if argument.isEmpty {
                guard inList else {
                    throw TemplateError(file: file, line: line, message: "\"\(rawName)\" is only meaningful inside a list section")
                }
                return .flag
            }
            name = argument
        }
        if name == "." { return nil }
        for scope in scopes.reversed() {
            if let found = scope[name] { return found }
        }
        let known = Set(scopes.flatMap { $0.keys }).sorted()
        let hint = ValueRules.suggestion(for: name, among: known).map { "; did you mean \"\($0)\"?" }
            ?? "; available here: " + known.joined(separator: ", ")
        throw TemplateError(file: file, line: line, message: "unknown variable \"\(name)\"\(hint)")
    }
}

extension String {
    var trimmingWhitespace: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}
