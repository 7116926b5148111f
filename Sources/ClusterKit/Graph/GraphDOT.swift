/// `clusterctl graph --format dot`: Graphviz source. One `cluster_` subgraph per role group (Graphviz draws
/// those as boxes), left to right like the SVG, blocked flows dashed.
enum GraphDOT {
    static func document(_ graph: ClusterGraph) -> String {
        var out = """
            digraph clusterctl {
              rankdir=LR;
              nodesep=0.3;
              ranksep=1.2;
              fontname="DejaVu Sans Mono";
              node [shape=box, style="rounded,filled", fontname="DejaVu Sans Mono", fontsize=11];
              edge [fontname="DejaVu Sans Mono", fontsize=9];

            """
        for group in graph.groups {
            out += "  subgraph \(quoted("cluster_" + group.kind.rawValue)) {\n"
            out += "    label=\(quoted(group.kind.title)); style=\"rounded,dashed\"; color=\(quoted(GraphPalette.stroke(group.kind)));\n"
            for node in group.nodes {
                let shape = node.kind == .host ? "" : ", shape=ellipse"
                out += "    \(quoted(node.id)) [label=\(quoted(node.lines.joined(separator: "\n")))"
                    + ", fillcolor=\(quoted(GraphPalette.fill(group.kind)))"
                    + ", color=\(quoted(GraphPalette.stroke(group.kind)))\(shape)];\n"
            }
            out += "  }\n"
        }
        for flow in graph.flows {
            let style = flow.allowed
                ? "color=\(quoted(GraphPalette.allowed))"
                : "color=\(quoted(GraphPalette.blocked)), fontcolor=\(quoted(GraphPalette.blocked)), style=dashed, arrowhead=tee"
            out += "  \(quoted(flow.from)) -> \(quoted(flow.to)) [label=\(quoted(flow.label)), \(style)];\n"
        }
        return out + "}\n"
    }

    /// A DOT double-quoted string: `"` and `\` escaped, newlines as `\n` (a centred line break in labels).
    static func quoted(_ text: String) -> String {
        var out = "\""
        for character in text {
            switch character {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": break
            default: out.append(character)
            }
        }
        return out + "\""
    }
}
