/// Colour as Terraform uses it, applied over text ClusterKit rendered plain (so tests of that text and
/// `--color never` see the same bytes): `+` green, `~` yellow, `-` red, `>` cyan, failures red, summaries bold.
struct Colorizer: Sendable {
    let enabled: Bool

    enum Style: String, Sendable {
        case green = "32", yellow = "33", red = "31", cyan = "36", bold = "1", dim = "2"
    }

    func paint(_ text: String, _ style: Style) -> String {
        enabled && !text.isEmpty ? "\u{1B}[\(style.rawValue)m\(text)\u{1B}[0m" : text
    }

    /// Plan text (PlanTextRenderer): each line by its marker; diff lines (`+x`/`-x` under a change) too.
    func plan(_ text: String) -> String {
        lines(text) { line in
            let body = line.drop { $0 == " " }
            if line.hasPrefix("Plan:") { return paint(line, .bold) }
            if line.hasPrefix("! ") { return paint(line, .red) }
            if body.hasPrefix("+++") || body.hasPrefix("---") || body.hasPrefix("@@") { return paint(line, .bold) }
            switch body.first {
            case "+": return paint(line, .green)
            case "~", "↻": return paint(line, .yellow)
            case "-": return paint(line, .red)
            case ">": return paint(line, .cyan)
            default: return line
            }
        }
    }

    /// ApplyRecap text: each host by its status, the summary lines bold.
    func recap(_ text: String) -> String {
        lines(text) { line in
            if line.hasPrefix("Recap:") || line.hasPrefix("Apply:") { return paint(line, .bold) }
            let words = line.split(separator: " ")
            guard words.count >= 2 else { return line }
            switch words[1].prefix { $0.isLetter } {
            case "failed": return paint(line, .red)
            case "changed", "interrupted": return paint(line, .yellow)
            case "ok": return paint(line, .green)
            default: return line
            }
        }
    }

    /// VerifyReport text: ✓ green, ✗ red, the summary bold (red when something failed).
    func verify(_ text: String) -> String {
        lines(text) { line in
            if line.hasPrefix("✓") { return paint(line, .green) }
            if line.hasPrefix("✗") { return paint(line, .red) }
            if line.hasPrefix("Verify:") { return paint(paint(line, line.contains("failed") ? .red : .green), .bold) }
            return line
        }
    }

    private func lines(_ text: String, _ transform: (String) -> String) -> String {
        guard enabled else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { transform(String($0)) }
            .joined(separator: "\n")
    }
}
