import Foundation

/// The output formats of `clusterctl graph`, and the look they share.
public enum GraphFormat: String, Sendable, CaseIterable {
    /// Drawn by clusterctl itself: no Graphviz needed, viewable in any browser.
    case svg
    /// Graphviz source, for `dot -Tpng` or further editing.
    case dot
    /// A Mermaid flowchart, which GitHub and many wikis render inline in Markdown.
    case mermaid

    /// The format a file name implies (`.svg`, `.dot`/`.gv`, `.mmd`/`.mermaid`), if any.
    public init?(fileName: String) {
        switch URL(fileURLWithPath: fileName).pathExtension.lowercased() {
        case "svg": self = .svg
        case "dot", "gv": self = .dot
        case "mmd", "mermaid": self = .mermaid
        default: return nil
        }
    }
}

extension ClusterGraph {
    public func render(_ format: GraphFormat) -> String {
        switch format {
        case .svg: GraphSVG(self).document
        case .dot: GraphDOT.document(self)
        case .mermaid: GraphMermaid.document(self)
        }
    }
}

/// Colours shared by the SVG and DOT output, so the two pictures read the same.
enum GraphPalette {
    static let allowed = "#2e7d32"
    static let blocked = "#c62828"
    static let text = "#1a1a1a"
    static let muted = "#555555"

    static func fill(_ kind: ClusterGraph.GroupKind) -> String {
        switch kind {
        case .anyone, .allowFrom: "#ffffff"
        case .web: "#e3f0fb"
        case .memcacheAndWeb: "#ece6f6"
        case .memcache: "#e6f4e7"
        case .noRole: "#f1f1f1"
        }
    }

    static func stroke(_ kind: ClusterGraph.GroupKind) -> String {
        switch kind {
        case .anyone, .allowFrom: "#777777"
        case .web: "#1f5f99"
        case .memcacheAndWeb: "#5e3c99"
        case .memcache: "#2e7d32"
        case .noRole: "#888888"
        }
    }
}
