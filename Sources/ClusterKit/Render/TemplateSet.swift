import Foundation
import Mustache

/// The templates clusterctl renders, by file name: one per rendered file per format (memcached's config is
/// /etc/sysconfig/memcached on EL, /etc/memcached.conf on Debian/Ubuntu; the family says which).
public enum TemplateName: String, Sendable, CaseIterable {
    case memcachedSysconfig = "memcached.sysconfig.mustache"
    case memcachedConf = "memcached.conf.mustache"
    case phpSession = "php-session.ini.mustache"
    case firewallMemcache = "firewall-memcache.rules.mustache"
    case firewallWeb = "firewall-web.rules.mustache"
}

/// Parsed, checked templates: the bundled ones, with same-named files from an overrides directory in their place.
public struct TemplateSet: Sendable {
    struct Loaded: Sendable {
        /// How errors name this template: the override's path, or the bundled file name.
        var origin: String
        var template: MustacheTemplate
    }

    /// Always CONTENT_TYPE TEXT: these are config files, and HTML escaping would turn `"` into `&quot;`.
    /// The pragma stands on its own line (so Mustache drops it from the output); errors subtract that line.
    private static let textPragma = "{{% CONTENT_TYPE: TEXT }}\n"

    private var templates: [TemplateName: Loaded]

    /// The templates shipped with clusterctl (resources of ClusterKit).
    public static func bundled() throws(TemplateError) -> TemplateSet {
        try TemplateSet(overridesDirectory: nil)
    }

    /// Bundled templates, each replaced by the file of the same name in `overridesDirectory` when there is one.
    /// A `.mustache` file there that is not one of the known names is an error (most likely a misspelt name).
    public init(overridesDirectory: String?) throws(TemplateError) {
        var loaded: [TemplateName: Loaded] = [:]
        let bundledDirectory = Self.bundledDirectory()
        var overrides: Set<String> = []
        if let overridesDirectory {
            overrides = try Self.overrideFiles(in: overridesDirectory)
        }
        for name in TemplateName.allCases {
            if let overridesDirectory, overrides.contains(name.rawValue) {
                let path = (overridesDirectory as NSString).appendingPathComponent(name.rawValue)
                loaded[name] = try Self.load(path: path, origin: path)
            } else {
                let path = (bundledDirectory as NSString).appendingPathComponent(name.rawValue)
                loaded[name] = try Self.load(path: path, origin: name.rawValue)
            }
        }
        templates = loaded
    }

    /// Builds a set from template texts (tests; tools embedding clusterctl). Missing names fall back to bundled.
    public init(texts: [TemplateName: String]) throws(TemplateError) {
        var set = try TemplateSet.bundled()
        for (name, text) in texts {
            set.templates[name] = try Self.parse(text, origin: name.rawValue)
        }
        self = set
    }

    /// Where each template came from (override path or bundled name), for summaries.
    public func origin(of name: TemplateName) -> String { templates[name]!.origin }

    func render(_ name: TemplateName, context: [String: any Sendable]) -> (text: String, origin: String) {
        let loaded = templates[name]!
        return (loaded.template.render(context), loaded.origin)
    }

    private static func bundledDirectory() -> String {
        Bundle.module.resourceURL!.appendingPathComponent("Templates").path
    }

    private static func overrideFiles(in directory: String) throws(TemplateError) -> Set<String> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TemplateError(file: directory, line: nil, message: "templates directory does not exist")
        }
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw TemplateError(file: directory, line: nil, message: "cannot list the templates directory")
        }
        let known = TemplateName.allCases.map(\.rawValue)
        for entry in entries.sorted() where entry.hasSuffix(".mustache") && !known.contains(entry) {
            let hint = ValueRules.suggestion(for: entry, among: known).map { "did you mean \"\($0)\"?" }
                ?? "known templates: " + known.joined(separator: ", ")
            throw TemplateError(file: (directory as NSString).appendingPathComponent(entry), line: nil,
                                message: "not a template clusterctl renders; \(hint)")
        }
        return Set(entries.filter { known.contains($0) })
    }

    private static func load(path: String, origin: String) throws(TemplateError) -> Loaded {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TemplateError(file: origin, line: nil, message: "cannot read the template file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TemplateError(file: origin, line: nil, message: "template is not valid UTF-8")
        }
        return try parse(text, origin: origin)
    }

    static func parse(_ text: String, origin: String) throws(TemplateError) -> Loaded {
        let template: MustacheTemplate
        do {
            template = try MustacheTemplate(string: textPragma + text)
        } catch let error as MustacheTemplate.ParserError {
            throw TemplateError(file: origin, line: max(1, error.context.lineNumber - 1),
                                message: "template does not parse: \(describe(error.error))")
        } catch {
            throw TemplateError(file: origin, line: nil, message: "template does not parse: \(error)")
        }
        try TemplateReferenceChecker.check(text, file: origin, shape: TemplateContext.shape)
        return Loaded(origin: origin, template: template)
    }

    private static func describe(_ error: any Error) -> String {
        switch error as? MustacheTemplate.Error {
        case .sectionCloseNameIncorrect: return "a section is closed with a different name than it was opened with"
        case .unfinishedName: return "a tag is not closed (missing }})"
        case .expectedSectionEnd: return "a section is never closed (missing {{/name}})"
        case .invalidSetDelimiter: return "invalid set-delimiter tag"
        case .transformAppliedToInheritanceSection, .illegalTokenInsideInheritSection, .textInsideInheritSection:
            return "template inheritance is not supported"
        case .invalidConfigVariableSyntax, .unrecognisedConfigVariable: return "invalid pragma {{% ... }}"
        case nil: return "\(error)"
        }
    }
}
