/// `clusterctl graph --format svg`: the picture, laid out and written by clusterctl (no Graphviz at run time).
///
/// Four columns, left to right: clients, web hosts, memcache hosts, then what else talks to memcached
/// (firewall.allowFrom sources and role-less hosts). Every flow then runs between neighbouring columns and
/// points at the side of the box it enters, so arrows into memcached come from both sides and barely cross.
/// Coordinates are whole numbers computed from character counts (a monospace font), so the bytes depend only
/// on the graph, never on fonts or locale.
struct GraphSVG {
    struct Rect {
        var x, y, width, height: Int
        var right: Int { x + width }
        var midY: Int { y + height / 2 }
    }

    /// Which groups stack in which column, top to bottom.
    static let columns: [[ClusterGraph.GroupKind]] = [[.anyone], [.web], [.memcache, .memcacheAndWeb], [.allowFrom, .noRole]]

    // Layout constants, in pixels. The font is 12 px monospace: about 7.3 px per character (DejaVu Sans Mono).
    static let margin = 24, headerHeight = 36, legendHeight = 58
    static let padding = 12, groupTitleHeight = 26, nodeGap = 14, groupGap = 24, columnGap = 170
    static let lineHeight = 17, minimumBoxWidth = 150

    let graph: ClusterGraph
    private(set) var boxes: [String: Rect] = [:]
    private(set) var column: [String: Int] = [:]
    private(set) var frames: [(kind: ClusterGraph.GroupKind, rect: Rect)] = []
    private(set) var width = 0
    private(set) var height = 0

    init(_ graph: ClusterGraph) {
        self.graph = graph
        layout()
    }

    static func textWidth(_ text: String, bold: Bool = false) -> Int {
        text.count * (bold ? 78 : 73) / 10
    }

    static func boxHeight(_ node: ClusterGraph.Node) -> Int { 12 + lineHeight * node.lines.count }

    private mutating func layout() {
        let groupsByKind = Dictionary(uniqueKeysWithValues: graph.groups.map { ($0.kind, $0) })
        let used = Self.columns.map { $0.compactMap { groupsByKind[$0] } }.filter { !$0.isEmpty }
        func columnHeight(_ groups: [ClusterGraph.Group]) -> Int {
            groups.map { group in
                Self.groupTitleHeight + Self.padding
                    + group.nodes.map(Self.boxHeight).reduce(0, +) + Self.nodeGap * (group.nodes.count - 1)
            }.reduce(0, +) + Self.groupGap * (groups.count - 1)
        }
        let contentHeight = used.map(columnHeight).max() ?? 0
        let top = Self.margin + Self.headerHeight
        var x = Self.margin
        for (index, groups) in used.enumerated() {
            let widestLine = groups.flatMap(\.nodes).flatMap { node in
                node.lines.enumerated().map { Self.textWidth($0.element, bold: $0.offset == 0) }
            }.max() ?? 0
            let boxWidth = max(Self.minimumBoxWidth, widestLine + 2 * Self.padding)
            let widestTitle = groups.map { Self.textWidth($0.kind.title, bold: true) }.max() ?? 0
            let frameWidth = max(boxWidth, widestTitle) + 2 * Self.padding
            var y = top + (contentHeight - columnHeight(groups)) / 2
            for group in groups {
                let frameTop = y
                y += Self.groupTitleHeight
                for node in group.nodes {
                    let height = Self.boxHeight(node)
                    boxes[node.id] = Rect(x: x + (frameWidth - boxWidth) / 2, y: y, width: boxWidth, height: height)
                    column[node.id] = index
                    y += height + Self.nodeGap
                }
                y += Self.padding - Self.nodeGap
                frames.append((group.kind, Rect(x: x, y: frameTop, width: frameWidth, height: y - frameTop)))
                y += Self.groupGap
            }
            x += frameWidth + Self.columnGap
        }
        width = max(x - Self.columnGap + Self.margin, 560)
        height = top + contentHeight + Self.legendHeight + Self.margin
    }

    var document: String {
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" \
            font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="12" fill="\(GraphPalette.text)">
            <title>\(Self.escaped(caption))</title>
            <defs>
              <marker id="arrow-allowed" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto">
                <path d="M0,0 L10,5 L0,10 z" fill="\(GraphPalette.allowed)"/>
              </marker>
              <marker id="tee-blocked" viewBox="0 0 3 12" refX="3" refY="6" markerWidth="3" markerHeight="10" orient="auto">
                <path d="M0,0 H3 V12 H0 z" fill="\(GraphPalette.blocked)"/>
              </marker>
            </defs>
            <rect width="\(width)" height="\(height)" fill="#ffffff"/>
            <text x="\(Self.margin)" y="\(Self.margin + 14)" font-size="14" font-weight="bold">\(Self.escaped(caption))</text>

            """
        for frame in frames {
            let r = frame.rect
            out += "<g class=\"group\" id=\"group-\(frame.kind.rawValue)\">"
                + "<rect x=\"\(r.x)\" y=\"\(r.y)\" width=\"\(r.width)\" height=\"\(r.height)\" rx=\"8\" "
                + "fill=\"#fafafa\" stroke=\"\(GraphPalette.stroke(frame.kind))\" stroke-dasharray=\"4 3\"/>"
                + "<text x=\"\(r.x + 10)\" y=\"\(r.y + 17)\" font-weight=\"bold\" fill=\"\(GraphPalette.stroke(frame.kind))\">"
                + "\(Self.escaped(frame.kind.title))</text></g>\n"
        }
        out += flowsMarkup()
        for group in graph.groups {
            for node in group.nodes { out += nodeMarkup(node, kind: group.kind) }
        }
        out += legendMarkup()
        return out + "</svg>\n"
    }

    var caption: String {
        let hosts = graph.nodes.filter { $0.kind == .host }.count
        return "Cluster flows: \(hosts) host\(hosts == 1 ? "" : "s"), what the CLUSTERCTL firewall chain allows and blocks"
    }

    private func nodeMarkup(_ node: ClusterGraph.Node, kind: ClusterGraph.GroupKind) -> String {
        guard let r = boxes[node.id] else { return "" }
        var out = "<g class=\"node\" id=\"\(Self.escaped(node.id))\">"
            + "<rect x=\"\(r.x)\" y=\"\(r.y)\" width=\"\(r.width)\" height=\"\(r.height)\" "
            + "rx=\"\(node.kind == .host ? 5 : r.height / 2)\" fill=\"\(GraphPalette.fill(kind))\" stroke=\"\(GraphPalette.stroke(kind))\"/>"
        for (index, line) in node.lines.enumerated() {
            let attributes = index == 0 ? " font-weight=\"bold\"" : " fill=\"\(GraphPalette.muted)\""
            out += "<text x=\"\(r.x + Self.padding)\" y=\"\(r.y + 19 + Self.lineHeight * index)\"\(attributes)>"
                + "\(Self.escaped(line))</text>"
        }
        return out + "</g>\n"
    }

    /// Curves between box sides; blocked ones dashed with a bar where the firewall stops them. A flow with
    /// something to say (blocked, or allowed only through allowFrom) is labelled once at its source.
    private func flowsMarkup() -> String {
        var out = ""
        var labelled = Set<String>()
        for flow in graph.flows {
            guard let from = boxes[flow.from], let to = boxes[flow.to],
                  let fromColumn = column[flow.from], let toColumn = column[flow.to] else { continue }
            let start: (x: Int, y: Int), end: (x: Int, y: Int), c1: (x: Int, y: Int), c2: (x: Int, y: Int)
            if toColumn > fromColumn {
                start = (from.right, from.midY); end = (to.x, to.midY)
                let bend = (end.x - start.x) / 2
                c1 = (start.x + bend, start.y); c2 = (end.x - bend, end.y)
            } else if toColumn < fromColumn {
                start = (from.x, from.midY); end = (to.right, to.midY)
                let bend = (start.x - end.x) / 2
                c1 = (start.x - bend, start.y); c2 = (end.x + bend, end.y)
            } else {
                // Same column (a memcache+web host reaching another memcache host): loop out to the left.
                start = (from.x, from.midY); end = (to.x, to.midY)
                c1 = (start.x - 70, start.y); c2 = (end.x - 70, end.y)
            }
            let colour = flow.allowed ? GraphPalette.allowed : GraphPalette.blocked
            let style = flow.allowed ? "marker-end=\"url(#arrow-allowed)\""
                : "stroke-dasharray=\"6 4\" marker-end=\"url(#tee-blocked)\""
            let fromName = graph.node(flow.from)?.title ?? flow.from, toName = graph.node(flow.to)?.title ?? flow.to
            out += "<path class=\"flow \(flow.allowed ? "allowed" : "blocked")\" "
                + "d=\"M\(start.x),\(start.y) C\(c1.x),\(c1.y) \(c2.x),\(c2.y) \(end.x),\(end.y)\" "
                + "fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.5\" \(style)>"
                + "<title>\(Self.escaped("\(fromName) → \(toName): \(flow.label)"))</title></path>\n"
            if !flow.allowed || flow.note != nil, labelled.insert(flow.from).inserted {
                // Just outside the source's group frame, on the side away from where the curve bends.
                let leftwards = toColumn <= fromColumn
                let x = leftwards ? start.x - Self.padding - 6 : start.x + Self.padding + 6
                let y = end.y < start.y ? start.y + 16 : start.y - 7
                let text = flow.allowed ? flow.note ?? "" : "blocked \(flow.service)"
                out += "<text x=\"\(x)\" y=\"\(y)\" "
                    + "text-anchor=\"\(leftwards ? "end" : "start")\" font-size=\"11\" fill=\"\(colour)\">"
                    + "\(Self.escaped(text))</text>\n"
            }
        }
        return out
    }

    private func legendMarkup() -> String {
        let y = height - Self.margin - Self.legendHeight + 24, x = Self.margin
        return """
            <g class="legend">\
            <path d="M\(x),\(y) H\(x + 40)" stroke="\(GraphPalette.allowed)" stroke-width="1.5" marker-end="url(#arrow-allowed)"/>\
            <text x="\(x + 50)" y="\(y + 4)">allowed (ACCEPT)</text>\
            <path d="M\(x),\(y + 20) H\(x + 40)" stroke="\(GraphPalette.blocked)" stroke-width="1.5" stroke-dasharray="6 4" \
            marker-end="url(#tee-blocked)"/>\
            <text x="\(x + 50)" y="\(y + 24)">\(Self.escaped("blocked (DROP); udp/\(graph.memcachedPort) is dropped from everyone"))</text>\
            </g>

            """
    }

    /// XML text and attribute escaping: the five predefined entities, and U+FFFD for control characters,
    /// which XML 1.0 cannot carry even escaped. (A validated inventory has neither; the picture must stay
    /// well-formed whatever reaches it.)
    static func escaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out += " "
            default:
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
