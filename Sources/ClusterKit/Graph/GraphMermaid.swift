/// `clusterctl graph --format mermaid`: a Mermaid flowchart, for Markdown that renders Mermaid (GitHub does).
/// Same groups, flows and colours as the SVG; blocked flows are dotted (`-.->`) and red.
enum GraphMermaid {
    static func document(_ graph: ClusterGraph) -> String {
        var lines = ["flowchart LR"]
        for group in graph.groups {
            lines.append("  subgraph \(identifier("group-" + group.kind.rawValue))[\"\(escaped(group.kind.title))\"]")
            for node in group.nodes {
                let label = "\"" + node.lines.map(escaped).joined(separator: "<br>") + "\""
                // Stadium shape for what is not an inventory host (clients, allowFrom networks).
                lines.append("    \(identifier(node.id))" + (node.kind == .host ? "[\(label)]" : "([\(label)])"))
            }
            lines.append("  end")
        }
        for flow in graph.flows {
            let arrow = flow.allowed ? "-->" : "-.->"
            lines.append("  \(identifier(flow.from)) \(arrow)|\"\(escaped(flow.label))\"| \(identifier(flow.to))")
        }
        for group in graph.groups {
            let name = identifier("style-" + group.kind.rawValue)
            lines.append("  classDef \(name) fill:\(GraphPalette.fill(group.kind)),stroke:\(GraphPalette.stroke(group.kind))")
            lines.append("  class \(group.nodes.map { identifier($0.id) }.joined(separator: ",")) \(name)")
        }
        // linkStyle counts edges in the order they were written above.
        let allowed = graph.flows.indices.filter { graph.flows[$0].allowed }.map(String.init)
        let blocked = graph.flows.indices.filter { !graph.flows[$0].allowed }.map(String.init)
        if !allowed.isEmpty {
            lines.append("  linkStyle \(allowed.joined(separator: ",")) stroke:\(GraphPalette.allowed)")
        }
        if !blocked.isEmpty {
            lines.append("  linkStyle \(blocked.joined(separator: ",")) stroke:\(GraphPalette.blocked),color:\(GraphPalette.blocked)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Node ids: `-` becomes `_` (host names have no `_`, so ids stay distinct); the `host_`/`group_` prefixes
    /// keep them clear of Mermaid keywords such as `end`.
    static func identifier(_ id: String) -> String {
        String(id.map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    /// Text inside a quoted Mermaid label: entity codes for what Mermaid or its HTML labels would interpret.
    static func escaped(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\"": out += "#quot;"
            case "#": out += "#35;"
            case "<": out += "#lt;"
            case ">": out += "#gt;"
            case "&": out += "#amp;"
            case "\n", "\r": out += " "
            default: out.append(character)
            }
        }
        return out
    }
}
