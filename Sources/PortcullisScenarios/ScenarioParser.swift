import Foundation
import PortcullisCore
import Yams

/// Reads scenario files (`.json`, `.yaml`, `.yml`) into ``Scenario`` values.
/// Unknown fields are refused, so a typo never silently weakens a test.
public enum ScenarioParser {
    /// The scenario files in `path`: the file itself, or the `.json`,
    /// `.yaml` and `.yml` files directly inside the folder, sorted.
    public static func files(at path: String) throws -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw ScenarioError.unreadable(file: path, reason: "no such file or folder")
        }
        guard isFolder.boolValue else { return [path] }
        let names = try FileManager.default.contentsOfDirectory(atPath: path)
        return names.filter { $0.hasSuffix(".json") || $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
            .sorted().map { (path as NSString).appendingPathComponent($0) }
    }

    /// Reads and checks one scenario file.
    public static func load(file: String) throws -> Scenario {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ScenarioError.unreadable(file: file, reason: "the file cannot be opened")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: file)
    }

    /// Checks scenario text; `file` names it in errors and decides JSON or YAML.
    public static func parse(_ text: String, file: String) throws -> Scenario {
        let root: JSONValue
        do {
            if file.hasSuffix(".yaml") || file.hasSuffix(".yml") {
                guard let loaded = try Yams.load(yaml: text) else { throw ScenarioError.malformed(file: file, reason: "the file is empty") }
                root = try YAMLValues.convert(loaded, path: "")
            } else {
                root = try JSONValue(parsing: text)
            }
        } catch let error as ScenarioError {
            throw error
        } catch let error as YAMLValues.Unsupported {
            throw ScenarioError.malformed(file: file, reason: error.description)
        } catch {
            throw ScenarioError.malformed(file: file, reason: Self.describe(error))
        }
        var reader = FieldReader(root, file: file, step: nil, stepName: nil, prefix: "")
        try reader.requireObject()
        let name = try reader.string("name") ?? ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        let description = try reader.string("description") ?? ""
        let source = try reader.string("source")
        let raceText = try reader.string("tyk_race") ?? "passes"
        guard let underTykRace = Scenario.ExpectedOutcome(rawValue: raceText) else {
            throw reader.error("tyk_race", "must be \"fails\" or \"passes\", got \"\(raceText)\"")
        }
        let pending = try reader.string("pending")
        let storeText = try reader.string("store") ?? "memory"
        guard let store = Scenario.StoreKind(rawValue: storeText) else {
            throw reader.error("store", "must be \"memory\" or \"redis\", got \"\(storeText)\"")
        }
        let nodes = try reader.stringArray("nodes") ?? ["a"]
        guard !nodes.isEmpty, Set(nodes).count == nodes.count else { throw reader.error("nodes", "must list distinct node names") }
        let clockStart = try reader.int("clock_start") ?? 1_700_000_000
        var gateway = try reader.object("gateway") ?? FieldReader(.object([:]), file: file, step: nil, stepName: nil, prefix: "gateway.")
        let configFile = try gateway.string("config")
        let settings = try gateway.object("settings")?.fields ?? [:]
        try gateway.finish()
        guard let apiValues = try reader.array("apis") else { throw reader.error("apis", "is required: list API definition files or objects") }
        var apis: [Scenario.APISource] = []
        for (index, value) in apiValues.enumerated() {
            switch value {
            case .string(let path): apis.append(.file(path))
            case .object: apis.append(.inline(value))
            default: throw reader.error("apis.\(index)", "must be a file path or an API definition object, got \(value.typeDescription)")
            }
        }
        let policies = try reader.object("policies")?.value
        if let policies { try ScenarioGatewayFiles.checkPolicies(policies, file: file, step: nil, field: "policies") }
        guard let stepValues = try reader.array("steps"), !stepValues.isEmpty else {
            throw reader.error("steps", "is required and must list at least one step")
        }
        try reader.finish()
        var steps: [ScenarioStep] = []
        for (offset, value) in stepValues.enumerated() {
            steps.append(try StepParser.parse(value, index: offset + 1, file: file, nodes: nodes))
        }
        return Scenario(file: file, name: name, description: description, source: source, underTykRace: underTykRace,
                        pending: pending, store: store, nodes: nodes, clockStart: clockStart, configFile: configFile,
                        settings: settings, apis: apis, policies: policies, steps: steps)
    }

    private static func describe(_ error: any Error) -> String {
        let nsError = error as NSError
        if let detail = nsError.userInfo[NSDebugDescriptionErrorKey] as? String { return detail }
        return "\(error)"
    }
}

/// Turns what Yams loads into ``JSONValue``.
enum YAMLValues {
    struct Unsupported: Error, CustomStringConvertible {
        let description: String
    }

    static func convert(_ value: Any, path: String) throws -> JSONValue {
        switch value {
        case let text as String: return .string(text)
        case let flag as Bool: return .bool(flag)
        case let number as Int: return .int(Int64(number))
        case let number as Double: return .double(number)
        case let items as [Any]:
            return .array(try items.enumerated().map { try convert($0.element, path: "\(path)\($0.offset).") })
        case let fields as [AnyHashable: Any]:
            var object: [String: JSONValue] = [:]
            for (key, item) in fields {
                guard let name = key.base as? String else {
                    throw Unsupported(description: "at '\(path.dropLast())': map keys must be strings, got \(key.base)")
                }
                object[name] = try convert(item, path: "\(path)\(name).")
            }
            return .object(object)
        case is NSNull: return .null
        default:
            throw Unsupported(description: "at '\(path.dropLast())': unsupported YAML value \(value)")
        }
    }
}
