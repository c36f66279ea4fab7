import Foundation
import PortcullisGateway
import Testing

/// The configuration reference in docs/operations.md is checked against the
/// parsers in both directions, and every local link in the documentation
/// must lead to a file that exists.
@Suite("Documentation")
struct DocumentationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let operationsGuide = "docs/operations.md"
    /// The headings of the two reference tables in docs/operations.md.
    static let gatewayTableHeading = "### tyk.conf fields"
    static let apiTableHeading = "### API definition fields"
    static let oasTableHeading = "### Tyk OAS API definition fields"

    @Test("Every tyk.conf field the parser knows is in the reference table, and every row is a field the parser knows")
    func gatewayConfigReference() throws {
        let documented = try Self.documentedFields(under: Self.gatewayTableHeading)
        try Self.compare(documented: documented, known: ConfigFieldCatalog.gatewayConfig(), table: Self.gatewayTableHeading)
    }

    @Test("Every API definition field the parser knows is in the reference table, and every row is a field the parser knows")
    func apiDefinitionReference() throws {
        let documented = try Self.documentedFields(under: Self.apiTableHeading)
        try Self.compare(documented: documented, known: ConfigFieldCatalog.apiDefinition(), table: Self.apiTableHeading)
    }

    @Test("Every Tyk OAS field the parser knows is in the reference table, and every row is a field the parser knows")
    func oasDefinitionReference() throws {
        let documented = try Self.documentedFields(under: Self.oasTableHeading)
        let known = try ConfigFieldCatalog.oasDefinition()
        #expect(known.read.isSuperset(of: ["x-tyk-api-gateway.info.id", "x-tyk-api-gateway.middleware.global.prePlugins[].functionName",
                                           "x-tyk-api-gateway.middleware.operations.<operationId>.virtualEndpoint.functionName",
                                           "x-tyk-api-gateway.server.authentication.securitySchemes.<scheme>.defaultPolicies",
                                           "components.securitySchemes.<scheme>.name", "paths.<path>.<method>.operationId"]),
                "the catalog's samples reach token, JWT and custom auth, every plugin list and virtual endpoints")
        try Self.compare(documented: documented, known: known, table: Self.oasTableHeading)
    }

    @Test("The field catalog sees nested sections, list entries and accepted-but-unused fields")
    func catalogFindsNestedFields() throws {
        let gateway = try ConfigFieldCatalog.gatewayConfig()
        #expect(gateway.read.isSuperset(of: ["listen_port", "storage", "storage.host", "local_session_cache.disable_cached_session_state"]))
        #expect(gateway.acknowledgedOnly.contains("storage.enable_cluster"))
        let api = try ConfigFieldCatalog.apiDefinition()
        #expect(api.read.isSuperset(of: ["api_id", "proxy.listen_path", "custom_middleware.pre[].name", "custom_middleware.auth_check.name",
                                         "version_data.versions.<version>.extended_paths.virtual[].response_function_name"]))
        #expect(api.acknowledgedOnly.contains("custom_middleware.pre[].raw_body_only"))
        #expect(api.read.isSuperset(of: ["enable_jwt", "jwt_signing_method", "jwt_source", "jwt_issued_at_validation_skew"]),
                "the JWT fields are read only with enable_jwt on; the catalog's sample must turn it on")
    }

    @Test("Brace expansion used by the reference tables")
    func braceExpansion() {
        #expect(Self.expand("a.{b,c}.d") == ["a.b.d", "a.c.d"])
        #expect(Self.expand("{x,y}[].{p,q}") == ["x[].p", "x[].q", "y[].p", "y[].q"])
        #expect(Self.expand("plain") == ["plain"])
    }

    @Test("Every link in README.md and docs/*.md to a local file points at a file that exists")
    func localLinksResolve() throws {
        let docs = Self.root.appendingPathComponent("docs")
        let guides = try FileManager.default.contentsOfDirectory(atPath: docs.path).filter { $0.hasSuffix(".md") }.sorted()
        #expect(guides.contains("plugin-guide.md") && guides.contains("operations.md"))
        var checked = 0
        for relative in ["README.md"] + guides.map({ "docs/\($0)" }) {
            let file = Self.root.appendingPathComponent(relative)
            let text = try String(contentsOf: file, encoding: .utf8)
            for target in Self.localLinks(in: text) {
                let resolved = file.deletingLastPathComponent().appendingPathComponent(target).standardizedFileURL.path
                #expect(FileManager.default.fileExists(atPath: resolved), "\(relative) links to \(target), which does not exist")
                checked += 1
            }
        }
        #expect(checked > 0)
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(Self.localLinks(in: readme).contains("docs/plugin-guide.md"), "README.md does not link docs/plugin-guide.md")
        #expect(Self.localLinks(in: readme).contains("docs/operations.md"), "README.md does not link docs/operations.md")
    }

    // MARK: - Reading the documentation

    static func compare(documented: [String: String], known: ConfigFieldCatalog.Fields, table: String) throws {
        let names = Set(documented.keys)
        for missing in known.all.subtracting(names).sorted() {
            Issue.record("\(operationsGuide), \(table): the parser reads '\(missing)' but the table has no row for it")
        }
        for unknown in names.subtracting(known.all).sorted() {
            Issue.record("\(operationsGuide), \(table): the table documents '\(unknown)', which the parser does not read")
        }
        for name in known.acknowledgedOnly.sorted() {
            guard let row = documented[name] else { continue }
            #expect(row.lowercased().contains("ignored"),
                    "\(operationsGuide), \(table): '\(name)' is accepted but has no effect; its row should say it is ignored")
        }
    }

    /// Field name → its whole table row, for the table under `heading`.
    /// The first cell holds the name in backticks; `{a,b}` stands for each
    /// of the names and `[]` for every element of a list.
    static func documentedFields(under heading: String) throws -> [String: String] {
        let text = try String(contentsOf: root.appendingPathComponent(operationsGuide), encoding: .utf8)
        let lines = text.components(separatedBy: "\n")
        guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == heading }) else {
            Issue.record("\(operationsGuide) has no heading '\(heading)'")
            return [:]
        }
        var fields: [String: String] = [:]
        for line in lines[(start + 1)...] {
            if line.hasPrefix("#") { break }
            guard line.hasPrefix("|") else { continue }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count > 2, let first = cells.dropFirst().first, first.hasPrefix("`") else { continue }
            let name = first.dropFirst().prefix { $0 != "`" }
            for expanded in expand(String(name)) {
                if fields[expanded] != nil { Issue.record("\(operationsGuide), \(heading): '\(expanded)' has two rows") }
                fields[expanded] = line
            }
        }
        if fields.isEmpty { Issue.record("\(operationsGuide), \(heading): no field rows found") }
        return fields
    }

    /// `a.{b,c}` → `a.b`, `a.c`; several groups multiply; no nesting.
    static func expand(_ pattern: String) -> [String] {
        guard let open = pattern.firstIndex(of: "{"), let close = pattern[open...].firstIndex(of: "}") else { return [pattern] }
        let head = String(pattern[..<open])
        let options = pattern[pattern.index(after: open)..<close].split(separator: ",", omittingEmptySubsequences: false)
        let tails = expand(String(pattern[pattern.index(after: close)...]))
        return options.flatMap { option in tails.map { head + option + $0 } }
    }

    /// Targets of Markdown links that are neither web addresses nor
    /// anchors in the same page, without their `#fragment`; code blocks and
    /// code spans are skipped.
    static func localLinks(in markdown: String) -> [String] {
        var prose: [String] = []
        var inFence = false
        for line in markdown.components(separatedBy: "\n") {
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") {
                inFence.toggle()
                continue
            }
            if inFence { continue }
            prose.append(line.split(separator: "`", omittingEmptySubsequences: false).enumerated()
                .filter { $0.offset % 2 == 0 }.map { String($0.element) }.joined(separator: " "))
        }
        let text = prose.joined(separator: "\n")
        guard let regex = try? NSRegularExpression(pattern: #"\]\(([^)\s]+)(?:\s+"[^"]*")?\)"#) else { return [] }
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            guard let range = Range(match.range(at: 1), in: text) else { return nil }
            let target = String(text[range])
            if target.hasPrefix("#") || target.contains("://") || target.hasPrefix("mailto:") { return nil }
            return String(target.prefix { $0 != "#" })
        }
    }
}
