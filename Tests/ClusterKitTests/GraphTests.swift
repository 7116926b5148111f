import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import ClusterKit

/// `clusterctl graph`: the model (which flows), and each format checked by what consumes it: an XML parser and
/// librsvg for SVG, Graphviz for DOT, a reviewed snapshot for Mermaid (no Mermaid renderer runs offline here).
@Suite struct GraphTests {
    static let exampleInventory = try! InventoryLoader.load(path: RenderCommandTests.example)
    static let graphGoldens = RenderGoldenTests.goldenRoot.appendingPathComponent("graph")
    static let readmePicture = InventoryLoaderTests.repositoryRoot.appendingPathComponent("docs/cluster.svg")

    /// Two memcache hosts, one host with both roles, an IPv6 web host, two allowFrom sources and two role-less
    /// hosts, one of them inside an allowFrom network.
    static let bigInventory = try! InventoryLoader.load(text: """
        {
          "firewall": { "allowFrom": ["10.180.1.0/24", "192.0.2.7"] },
          "hosts": {
            "mc1": { "roles": ["memcache"], "address": "203.0.113.10", "privateAddress": "10.180.0.5" },
            "mc2": { "roles": ["memcache"], "address": "203.0.113.11", "privateAddress": "10.180.0.6" },
            "app1": { "roles": ["memcache", "web"], "address": "app1.example.com", "privateAddress": "10.180.0.7" },
            "web1": { "roles": ["web"], "address": "203.0.113.21", "privateAddress": "10.180.0.11" },
            "web3": { "roles": ["web"], "address": "2001:db8::23", "privateAddress": "10.180.0.13" },
            "monitor1": { "roles": [], "address": "203.0.113.40", "privateAddress": "10.180.0.100" },
            "backup1": { "roles": [], "address": "203.0.113.41", "privateAddress": "10.180.1.9" }
          }
        }
        """, file: "big.json")

    /// Not loadable from JSON (validation refuses these names): proves escaping, not validation, keeps the
    /// output well-formed.
    static let hostileInventory = Inventory(
        ssh: SSHSettings(), memcached: MemcachedSettings(), php: PHPSettings(),
        firewall: FirewallSettings(allowFrom: ["10.0.0.0/8\" onload=\"x"]),
        hosts: [
            Host(name: "mc<1>&\"'", roles: [.memcache], address: "a]]>b", privateAddress: "10.0.0.5", ssh: SSHSettings()),
            Host(name: "web\\1\n#quot;", roles: [.web], address: "10.0.0.6", privateAddress: "10.0.0.6", ssh: SSHSettings()),
            Host(name: "end", roles: [], address: "10.0.0.7", privateAddress: "10.0.0.7", ssh: SSHSettings()),
        ])

    static func flowLines(_ graph: ClusterGraph) -> [String] {
        graph.flows.map { "\($0.from) -> \($0.to): \($0.label)" }
    }

    @Test func exampleGroupsAndFlows() {
        let graph = ClusterGraph(inventory: Self.exampleInventory)
        #expect(graph.groups.map(\.kind) == [.anyone, .web, .memcache, .allowFrom, .noRole])
        #expect(graph.groups.map { $0.nodes.map(\.title) } == [["anyone"], ["web1", "web2"], ["mc1"], ["10.180.1.0/24"], ["monitor1"]])
        #expect(Self.flowLines(graph) == [
            "anyone -> host-web1: tcp/80, 443",
            "anyone -> host-web2: tcp/80, 443",
            "host-web1 -> host-mc1: tcp/11211",
            "host-web2 -> host-mc1: tcp/11211",
            "source-1 -> host-mc1: tcp/11211",
            "host-monitor1 -> host-mc1: tcp/11211 blocked",
        ])
        #expect(graph.flows.filter { !$0.allowed }.map(\.from) == ["host-monitor1"])
    }

    @Test func dualRoleHostsAndRoleLessHostsInsideAllowFrom() {
        let graph = ClusterGraph(inventory: Self.bigInventory)
        #expect(graph.groups.map(\.kind) == [.anyone, .web, .memcacheAndWeb, .memcache, .allowFrom, .noRole])
        let lines = Self.flowLines(graph)
        // A host's own memcached is reached over loopback: no arrow to itself.
        #expect(!lines.contains { $0.hasPrefix("host-app1 -> host-app1") })
        #expect(lines.contains("host-app1 -> host-mc1: tcp/11211"))
        #expect(lines.contains("host-web1 -> host-app1: tcp/11211"))
        #expect(lines.contains("anyone -> host-app1: tcp/80, 443"))
        // The chain accepts by source address: backup1 (10.180.1.9) is inside allowFrom 10.180.1.0/24.
        #expect(lines.contains("host-backup1 -> host-mc2: tcp/11211 via allowFrom 10.180.1.0/24"))
        #expect(lines.contains("host-monitor1 -> host-mc2: tcp/11211 blocked"))
        #expect(graph.flows.count == 3 + 3 * 3 - 1 + 2 * 3 + 2 * 3)
    }

    @Test func allowFromMatching() {
        #expect(ClusterGraph.contains("10.180.1.0/24", "10.180.1.9"))
        #expect(ClusterGraph.contains("10.180.1.9", "10.180.1.9"))
        #expect(ClusterGraph.contains("0.0.0.0/0", "192.0.2.1"))
        #expect(!ClusterGraph.contains("10.180.1.0/24", "10.180.2.9"))
        #expect(!ClusterGraph.contains("10.180.1.9", "10.180.1.8"))
        for malformed in ["", "/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8/8", "10.0.0.0/x"] {
            #expect(!ClusterGraph.contains(malformed, "10.0.0.1"), "\(malformed)")
        }
    }

    @Test(arguments: [("example", exampleInventory), ("big", bigInventory), ("hostile", hostileInventory)])
    func svgIsWellFormedNamesEveryHostAndDrawsEveryFlow(_ name: String, _ inventory: Inventory) throws {
        let graph = ClusterGraph(inventory: inventory)
        let svg = graph.render(.svg)
        let document = try SVGDocument(svg)
        #expect(document.root == "svg")
        for host in inventory.hosts {
            // Newlines become spaces: SVG text is one line.
            #expect(document.texts.contains(host.name.replacingOccurrences(of: "\n", with: " ")), "\(name): \(host.name) not drawn")
        }
        #expect(document.paths(withClass: "flow allowed").count == graph.flows.filter(\.allowed).count)
        let blocked = document.paths(withClass: "flow blocked")
        #expect(blocked.count == graph.flows.filter { !$0.allowed }.count)
        #expect(blocked.allSatisfy { $0["stroke-dasharray"] != nil })
        #expect(svg == ClusterGraph(inventory: inventory).render(.svg), "same inventory, same bytes")
    }

    @Test(arguments: [("example", exampleInventory), ("big", bigInventory), ("hostile", hostileInventory)])
    func librsvgRendersTheSVG(_ name: String, _ inventory: Inventory) throws {
        let directory = try TemplateTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let svg = directory.appendingPathComponent("\(name).svg"), png = directory.appendingPathComponent("\(name).png")
        try Data(ClusterGraph(inventory: inventory).render(.svg).utf8).write(to: svg)
        let result = try ExternalTool.run("rsvg-convert", ["--format", "png", "--output", png.path, svg.path])
        #expect(result.status == 0 && result.stderr.isEmpty, "rsvg-convert: \(result.stderr)")
        let bytes = [UInt8](try Data(contentsOf: png))
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]), "not a PNG")
        let size = try SVGDocument(String(decoding: try Data(contentsOf: svg), as: UTF8.self)).rootAttributes
        let be32 = { (offset: Int) in bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) } }
        #expect(bytes.count > 24 && "\(be32(16))" == size["width"] && "\(be32(20))" == size["height"])
    }

    @Test(arguments: [("example", exampleInventory), ("big", bigInventory), ("hostile", hostileInventory)])
    func graphvizAcceptsTheDOT(_ name: String, _ inventory: Inventory) throws {
        let directory = try TemplateTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("\(name).dot")
        let graph = ClusterGraph(inventory: inventory)
        try Data(graph.render(.dot).utf8).write(to: file)
        let result = try ExternalTool.run("dot", ["-Tplain", file.path])
        #expect(result.status == 0 && result.stderr.isEmpty, "dot: \(result.stderr)")
        // -Tplain: one "node NAME …" line per node, one "edge FROM TO …" line per edge.
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("node ") }.count == graph.nodes.count)
        #expect(lines.filter { $0.hasPrefix("edge ") }.count == graph.flows.count)
        #expect(lines.filter { $0.hasPrefix("edge ") && $0.contains(" dashed ") }.count == graph.flows.filter { !$0.allowed }.count)
    }

    @Test func mermaidEscapesAndKeepsIdentifiersApart() {
        let mermaid = ClusterGraph(inventory: Self.hostileInventory).render(.mermaid)
        #expect(mermaid.contains("host_mc_1____[\"mc#lt;1#gt;#amp;#quot;'<br>a]]#gt;b · 10.0.0.5<br>"))
        #expect(mermaid.contains("host_web_1__quot_[\"web\\1 #35;quot;<br>"))
        #expect(mermaid.contains("    host_end[\"end<br>"), "a host named end must not close the subgraph")
    }

    /// The snapshots and the README's picture. After an intended change:
    /// `CLUSTERCTL_UPDATE_GOLDEN=1 swift test --filter GraphTests`, look at docs/cluster.svg, commit.
    @Test(arguments: [(GraphFormat.mermaid, "example.mmd"), (.dot, "example.dot"), (.svg, "")])
    func exampleMatchesSnapshot(_ format: GraphFormat, _ fileName: String) throws {
        let file = fileName.isEmpty ? Self.readmePicture : Self.graphGoldens.appendingPathComponent(fileName)
        let rendered = ClusterGraph(inventory: Self.exampleInventory).render(format)
        if ProcessInfo.processInfo.environment["CLUSTERCTL_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(rendered.utf8).write(to: file)
            Issue.record("\(file.path) rewritten; review it and run again without CLUSTERCTL_UPDATE_GOLDEN")
            return
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        #expect(rendered == expected, "\(file.path) is out of date (CLUSTERCTL_UPDATE_GOLDEN=1 rewrites it)")
    }

    @Test func graphCommandPrintsWritesAndInfersTheFormat() throws {
        let directory = try TemplateTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let graph = ClusterGraph(inventory: Self.exampleInventory)
        let svg = try CommandLineRun.run(["graph", "-i", RenderCommandTests.example])
        #expect(svg.status == 0 && svg.stdout == graph.render(.svg), "\(svg.stderr)")
        #expect(try CommandLineRun.run(["graph", "-i", RenderCommandTests.example, "--format", "mermaid"]).stdout
                == graph.render(.mermaid))

        let dotFile = directory.appendingPathComponent("cluster.gv").path
        let written = try CommandLineRun.run(["graph", "-i", RenderCommandTests.example, "--out", dotFile])
        #expect(written.status == 0, "\(written.stderr)")
        #expect(written.stdout == "Wrote the dot graph of 4 hosts to \(dotFile)\n")
        #expect(try String(contentsOfFile: dotFile, encoding: .utf8) == graph.render(.dot))

        let unwritable = directory.appendingPathComponent("missing/cluster.svg").path
        let failed = try CommandLineRun.run(["graph", "-i", RenderCommandTests.example, "--out", unwritable])
        #expect(failed.status == 1)
        #expect(failed.stderr.hasPrefix("graph: cannot write \(unwritable): "))
        #expect(failed.stderr.hasSuffix("Check that its directory exists and is writable, or print to stdout without --out.\n"))

        let badFormat = try CommandLineRun.run(["graph", "-i", RenderCommandTests.example, "--format", "png"])
        #expect(badFormat.status == 64)
        #expect(badFormat.stderr.contains("'png'"))
    }
}

/// The parts of an SVG file the tests look at, read with Foundation's XML parser (a parse error fails the test).
final class SVGDocument: NSObject, XMLParserDelegate {
    private(set) var root = ""
    private(set) var rootAttributes: [String: String] = [:]
    private(set) var texts: [String] = []
    private(set) var elements: [(name: String, attributes: [String: String])] = []
    private var text: String?

    init(_ svg: String) throws {
        super.init()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = self
        guard parser.parse() else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [
                NSLocalizedDescriptionKey: "SVG does not parse: \(parser.parserError.map { "\($0)" } ?? "?") at line \(parser.lineNumber)",
            ])
        }
    }

    func paths(withClass className: String) -> [[String: String]] {
        elements.filter { $0.name == "path" && $0.attributes["class"] == className }.map(\.attributes)
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if root.isEmpty { root = name; rootAttributes = attributes }
        elements.append((name, attributes))
        if name == "text" { text = "" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text? += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text", let text { texts.append(text) }
        if name == "text" { text = nil }
    }
}
