import Foundation
import Logging
import PortcullisCore
import PortcullisSessions

/// Loads security policies from `policies.policy_path` (one policy per
/// `.json` file) or `policies.policy_record_name` (one file of id →
/// policy). A bad file or entry is refused with its file and field named;
/// the other policies still load.
public struct PolicyLoader: Sendable {
    /// What a load produced.
    public struct Result: Sendable {
        /// The policies that loaded, with where each came from.
        public var policies: [(policy: Policy, source: String)]
        /// One error per refused file or entry, with the policy id it would
        /// have had when it is known (so the previous version can stay).
        public var failures: [(error: ConfigError, policyID: String?)]
    }

    private let source: PolicySourceConfig
    private let logger: Logger

    /// Creates a loader for `source`.
    public init(source: PolicySourceConfig, logger: Logger = Logger(label: "portcullis.config")) {
        self.source = source
        self.logger = logger
    }

    /// Reads the configured source; nothing configured loads nothing.
    public func load() -> Result {
        var result = if !source.path.isEmpty {
            loadFolder(source.path)
        } else if !source.recordName.isEmpty {
            loadRecord(source.recordName)
        } else {
            Result(policies: [], failures: [])
        }
        result.policies.sort { ByteOrder.precedes($0.policy.id, $1.policy.id) }
        for failure in result.failures { logger.error("policy refused: \(failure.error)") }
        return result
    }

    private func loadFolder(_ folder: String) -> Result {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }.sorted()
        } catch {
            return Result(policies: [], failures: [(.unreadable(file: folder, reason: "cannot list the policy_path folder"), nil)])
        }
        var result = Result(policies: [], failures: [])
        for name in names {
            let file = (folder as NSString).appendingPathComponent(name)
            let fallbackID = String(name.dropLast(".json".count))
            do {
                let value = try Self.document(file)
                var policy = try Self.decode(value, file: file, path: "")
                if policy.id.isEmpty { policy.id = fallbackID }
                if let clash = result.policies.first(where: { $0.policy.id == policy.id }) {
                    throw ConfigError.conflict(file: file, reason: "policy id '\(policy.id)' is already used by \(clash.source)")
                }
                result.policies.append((policy, file))
            } catch let error as ConfigError {
                result.failures.append((error, Self.declaredID(file) ?? fallbackID))
            } catch {
                result.failures.append((.unreadable(file: file, reason: "\(error)"), fallbackID))
            }
        }
        return result
    }

    private func loadRecord(_ file: String) -> Result {
        let value: JSONValue
        do {
            value = try Self.document(file)
        } catch let error as ConfigError {
            return Result(policies: [], failures: [(error, nil)])
        } catch {
            return Result(policies: [], failures: [(.unreadable(file: file, reason: "\(error)"), nil)])
        }
        guard case .object(let entries) = value else {
            return Result(policies: [], failures: [(.invalidField(file: file, field: "(top level)",
                                                                   reason: "must be an object of policy id → policy, got \(value.typeDescription)"), nil)])
        }
        var result = Result(policies: [], failures: [])
        for id in entries.keys.sorted(by: ByteOrder.precedes) {
            guard let entry = entries[id] else { continue }
            do {
                var policy = try Self.decode(entry, file: file, path: id)
                // The map key names the policy, as in Tyk.
                if !id.isEmpty { policy.id = id }
                result.policies.append((policy, file))
            } catch let error as ConfigError {
                result.failures.append((error, id))
            } catch {
                result.failures.append((.unreadable(file: file, reason: "\(error)"), id))
            }
        }
        return result
    }

    private static func document(_ file: String) throws -> JSONValue {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConfigError.unreadable(file: file, reason: "no such file or not readable")
        }
        do {
            return try JSONValue(parsing: String(decoding: data, as: UTF8.self))
        } catch {
            throw ConfigError.notJSON(file: file, reason: JSONErrorText.describe(error))
        }
    }

    private static func decode(_ value: JSONValue, file: String, path: String) throws -> Policy {
        do {
            return try Policy(json: value, path: path)
        } catch let error as SessionDecodingError {
            switch error {
            case .wrongType(let field, let expected, let found):
                throw ConfigError.invalidField(file: file, field: field, reason: "must be \(expected), got \(found)")
            case .notAnInteger(let field, let expected, _):
                throw ConfigError.invalidField(file: file, field: field, reason: "must be \(expected): \(error)")
            default:
                throw ConfigError.invalidField(file: file, field: path.isEmpty ? "(top level)" : path, reason: "\(error)")
            }
        }
    }

    /// The `id` a broken policy file declares, when it can still be read.
    private static func declaredID(_ file: String) -> String? {
        guard case .object(let fields)? = try? document(file), case .string(let id)? = fields["id"], !id.isEmpty else { return nil }
        return id
    }
}

/// The policies a gateway node applies, replaced whole on reload.
public final class PolicyRegistry: Sendable {
    private let state = Locked(PolicySet())
    private let sources = Locked<[String: String]>([:])

    /// Creates an empty registry.
    public init() {}

    /// The set requests apply now.
    public var current: PolicySet { state.value }

    /// Where each loaded policy came from.
    public var sourceFiles: [String: String] { sources.value }

    /// Installs a load's result (returns what was refused). A policy whose file or entry was refused
    /// keeps its previous version, as a refused API keeps serving, so a
    /// typo on reload does not lock its keys out; a policy whose file was
    /// removed is gone.
    @discardableResult
    public func install(_ result: PolicyLoader.Result) -> [String] {
        let previous = state.value
        var policies = result.policies.map(\.policy)
        var files = Dictionary(result.policies.map { ($0.policy.id, $0.source) }, uniquingKeysWith: { first, _ in first })
        let previousFiles = sources.value
        for failure in result.failures {
            guard let id = failure.policyID, files[id] == nil, let kept = previous[id] else { continue }
            policies.append(kept)
            files[id] = previousFiles[id]
        }
        state.value = PolicySet(policies)
        sources.value = files
        return result.failures.map(\.error.description)
    }
}
