import Foundation
import PortcullisCore
import PortcullisGateway
import PortcullisSessions

/// Turns a scenario's `gateway` and `apis` sections into the files a
/// gateway node loads: a `tyk.conf` and an `app_path` folder.
enum ScenarioGatewayFiles {
    /// The secret used when the scenario sets none.
    static let defaultSecret = "scenario-secret"

    /// The gateway config: the scenario's `gateway.config` file (if any),
    /// then `gateway.settings`, with `app_path` pointed at `appPath`.
    static func config(for scenario: Scenario, appPath: String, templates: TemplateContext) throws -> GatewayConfig {
        var fields: [String: JSONValue] = [:]
        var label = scenario.file + " (gateway.settings)"
        if let configFile = scenario.configFile {
            let path = resolve(configFile, near: scenario.file)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ScenarioError.invalid(file: scenario.file, step: nil, stepName: nil, field: "gateway.config",
                                            reason: "names '\(configFile)', which cannot be read (looked for \(path))")
            }
            guard case .object(let loaded) = try JSONValue(parsing: String(decoding: data, as: UTF8.self)) else {
                throw ScenarioError.invalid(file: scenario.file, step: nil, stepName: nil, field: "gateway.config",
                                            reason: "names '\(configFile)', which is not a JSON object")
            }
            fields = loaded
            label = path
        }
        for (name, value) in scenario.settings { fields[name] = templates.resolve(value) }
        if fields["secret"] == nil { fields["secret"] = .string(defaultSecret) }
        fields["app_path"] = .string(appPath)
        fields["storage"] = nil
        if scenario.policies != nil {
            let file = ((appPath as NSString).deletingLastPathComponent as NSString).appendingPathComponent("policies.json")
            fields["policies"] = .object(["policy_source": .string("file"), "policy_record_name": .string(file)])
        }
        do {
            return try GatewayConfig.parse(JSONValue.object(fields).jsonString(), file: label).0
        } catch {
            throw ScenarioError.setupFailed(file: scenario.file, reason: "\(error)")
        }
    }

    /// Writes each API definition into `folder`, placeholders resolved and
    /// relative plugin paths made absolute when the file sits next to the
    /// scenario or the definition (otherwise they stay relative to the
    /// working directory, as in `tyk.conf`).
    static func writeAPIs(for scenario: Scenario, into folder: URL, templates: TemplateContext) throws {
        for (index, source) in scenario.apis.enumerated() {
            let text: String
            var base = (scenario.file as NSString).deletingLastPathComponent
            switch source {
            case .file(let path):
                let resolved = resolve(path, near: scenario.file)
                guard let data = FileManager.default.contents(atPath: resolved) else {
                    throw ScenarioError.invalid(file: scenario.file, step: nil, stepName: nil, field: "apis.\(index)",
                                                reason: "names '\(path)', which cannot be read (looked for \(resolved))")
                }
                text = String(decoding: data, as: UTF8.self)
                base = (resolved as NSString).deletingLastPathComponent
            case .inline(let value):
                text = value.jsonString()
            }
            var definition: JSONValue
            do {
                definition = try JSONValue(parsing: templates.resolveText(text))
            } catch {
                throw ScenarioError.invalid(file: scenario.file, step: nil, stepName: nil, field: "apis.\(index)",
                                            reason: "is not valid JSON: \(error)")
            }
            definition = rewritePluginPaths(definition, bases: [(scenario.file as NSString).deletingLastPathComponent, base])
            let target = folder.appendingPathComponent(String(format: "%02d-api.json", index))
            try Data(definition.jsonString().utf8).write(to: target)
        }
    }

    /// `path` as written in a scenario: absolute, or relative to the
    /// scenario's folder when a file is there, else to the working directory.
    static func resolve(_ path: String, near scenarioFile: String) -> String {
        guard !path.hasPrefix("/") else { return path }
        let beside = ((scenarioFile as NSString).deletingLastPathComponent as NSString).appendingPathComponent(path)
        return FileManager.default.fileExists(atPath: beside) ? beside : path
    }

    /// Rewrites every `path` / `function_source_uri` that names a `.js`
    /// file found under one of `bases`.
    private static func rewritePluginPaths(_ value: JSONValue, bases: [String]) -> JSONValue {
        switch value {
        case .object(var fields):
            for (key, child) in fields {
                if (key == "path" || key == "function_source_uri"), case .string(let path) = child, path.hasSuffix(".js"), !path.hasPrefix("/") {
                    let found = bases.map { ($0 as NSString).appendingPathComponent(path) }
                        .first { FileManager.default.fileExists(atPath: $0) }
                    if let found { fields[key] = .string(URL(fileURLWithPath: found).standardizedFileURL.path) }
                } else {
                    fields[key] = rewritePluginPaths(child, bases: bases)
                }
            }
            return .object(fields)
        case .array(let items):
            return .array(items.map { rewritePluginPaths($0, bases: bases) })
        default:
            return value
        }
    }

    /// Refuses a `policies` object whose entries are not policies, naming
    /// the entry and field, before anything starts.
    static func checkPolicies(_ value: JSONValue, file: String, step: Int?, field: String) throws {
        guard case .object(let entries) = value else {
            throw ScenarioError.invalid(file: file, step: step, stepName: nil, field: field, reason: "must be an object of policy id → policy")
        }
        for (id, entry) in entries {
            do {
                _ = try Policy(json: entry, path: id)
            } catch {
                throw ScenarioError.invalid(file: file, step: step, stepName: nil, field: "\(field).\(id)", reason: "is not a valid policy: \(error)")
            }
        }
    }
}
