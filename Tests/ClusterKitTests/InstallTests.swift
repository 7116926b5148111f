import Foundation
import Testing

/// `make install PREFIX=…` into a fresh directory, then everything used from there: the installed binary with
/// its installed templates, the completions and the man page, then `make uninstall`. Builds the release binary
/// and runs swift-argument-parser's generate-manual plugin, so it takes a minute or two on a cold build.
@Suite struct InstallTests {
    static let root = InventoryLoaderTests.repositoryRoot
    static let installedFiles = [
        "bin/clusterctl", "lib/clusterctl/clusterctl",
        "lib/clusterctl/clusterctl_ClusterKit.resources/Templates/memcached.sysconfig.mustache",
        "share/bash-completion/completions/clusterctl", "share/zsh/site-functions/_clusterctl",
        "share/fish/vendor_completions.d/clusterctl.fish", "share/man/man1/clusterctl.1",
    ]

    @Test func makeInstallThenUseEverythingThenUninstall() throws {
        let prefix = try TemplateTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: prefix) }
        // --ignore-lock: this test runs inside `swift test`, which holds .build's lock until it ends; the
        // outer swift test is not building while tests run, so the nested build is alone in .build.
        let make = try ExternalTool.run("make", ["-C", Self.root.path, "install", "PREFIX=\(prefix.path)",
                                                 "SWIFT_FLAGS=--ignore-lock"])
        try #require(make.status == 0, "make install failed:\n\(make.stdout)\n\(make.stderr)")
        for file in Self.installedFiles {
            #expect(FileManager.default.fileExists(atPath: prefix.appendingPathComponent(file).path), "\(file) not installed")
        }
        let binary = prefix.appendingPathComponent("bin/clusterctl").path

        let version = try ExternalTool.run(binary, ["--version"])
        #expect(version.status == 0 && version.stdout.hasPrefix("clusterctl "), "\(version.stderr)")

        // The installed binary must read the installed templates, not the build tree's (its fallback): mark
        // the installed copy and look for the mark in what it renders.
        let template = prefix.appendingPathComponent(
            "lib/clusterctl/clusterctl_ClusterKit.resources/Templates/memcached.sysconfig.mustache")
        let marked = try String(contentsOf: template, encoding: .utf8) + "# from the installed templates\n"
        try Data(marked.utf8).write(to: template)
        let out = prefix.appendingPathComponent("render-out")
        let render = try ExternalTool.run(binary, ["render", "-i", RenderCommandTests.example, "--out", out.path])
        #expect(render.status == 0, "\(render.stderr)")
        let rendered = try String(contentsOf: out.appendingPathComponent("mc1/etc/sysconfig/memcached"), encoding: .utf8)
        #expect(rendered.hasSuffix("# from the installed templates\n"))

        for (shell, file, check) in [("bash", "share/bash-completion/completions/clusterctl", ["-n"]),
                                     ("zsh", "share/zsh/site-functions/_clusterctl", ["-n"]),
                                     ("fish", "share/fish/vendor_completions.d/clusterctl.fish", ["--no-execute"])] {
            let path = prefix.appendingPathComponent(file).path
            let generated = try ExternalTool.run(binary, ["--generate-completion-script", shell]).stdout
            #expect(try String(contentsOfFile: path, encoding: .utf8) == generated, "\(file) is not the \(shell) script")
            let result = try ExternalTool.run(shell, check + [path])
            #expect(result.status == 0 && result.stderr.isEmpty, "\(shell) rejects \(file): \(result.stderr)")
        }

        try checkManPage(prefix.appendingPathComponent("share/man/man1/clusterctl.1"))

        let uninstall = try ExternalTool.run("make", ["-C", Self.root.path, "uninstall", "PREFIX=\(prefix.path)"])
        #expect(uninstall.status == 0, "\(uninstall.stderr)")
        for file in Self.installedFiles {
            #expect(!FileManager.default.fileExists(atPath: prefix.appendingPathComponent(file).path), "\(file) left behind")
        }
        #expect(!FileManager.default.fileExists(atPath: prefix.appendingPathComponent("lib/clusterctl").path))
    }

    /// man and groff, with every warning on, must say nothing; the page must document every subcommand.
    func checkManPage(_ page: URL) throws {
        let man = try ExternalTool.run("man", ["--warnings", "-l", page.path], environment: ["MANWIDTH": "100", "LANG": "C.UTF-8"])
        #expect(man.status == 0, "\(man.stderr)")
        #expect(man.stderr.isEmpty, "man --warnings: \(man.stderr)")
        let groff = try ExternalTool.run("groff", ["-mandoc", "-ww", "-z", page.path])
        #expect(groff.status == 0 && groff.stderr.isEmpty, "groff: \(groff.stderr)")
        let text = man.stdout
        // Undo line filling and hyphenation (groff breaks "invalid" as "in\u{2010}" + newline + "valid").
        let words = text.replacing(/\x{2010}\s+/, with: "").split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(words.contains("Provision a PHP web cluster whose sessions live in memcached."))
        for subcommand in ["init", "validate", "render", "graph", "plan", "apply", "verify"] {
            #expect(text.contains("\n     \(subcommand)"), "man page lacks \(subcommand)")
        }
        #expect(words.contains("--detailed-exitcode") && words.contains("64 invalid arguments"))
        #expect(words.contains("Hosts are named mc1, mc2, ... and web1, web2, ... in the order given"))
    }

    /// generate-manual drops characters outside ASCII (an ellipsis vanished from init's help once): keep every
    /// help text ASCII so the man page says what --help says.
    @Test func helpTextsAreASCII() throws {
        let dump = try CommandLineRun.run(["--experimental-dump-help"])
        #expect(dump.status == 0)
        let offending = dump.stdout.split(separator: "\n").filter { !$0.allSatisfy(\.isASCII) }
        #expect(offending.isEmpty, "non-ASCII help text: \(offending)")
    }
}
