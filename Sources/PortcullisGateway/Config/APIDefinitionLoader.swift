import Foundation
import Logging

/// Loads every API definition in `app_path`. A bad file is refused on its
/// own — with file and field named — and the other APIs still load.
public struct APIDefinitionLoader: Sendable {
    /// What a load produced.
    public struct Result: Sendable {
        /// The APIs that loaded, by file name order.
        public var apis: [APIDefinition]
        /// One error per refused file.
        public var failures: [ConfigError]
    }

    private let logger: Logger
    private let middlewarePath: String

    /// Creates a loader that logs ignored fields at debug level and adds the
    /// plugins found under `middlewarePath` (Tyk's folder convention).
    public init(middlewarePath: String = "", logger: Logger = Logger(label: "portcullis.config")) {
        self.middlewarePath = middlewarePath
        self.logger = logger
    }

    /// Loads `*.json` in `folder`, refusing files that clash with one loaded before.
    public func load(folder: String) -> Result {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }.sorted()
        } catch {
            return Result(apis: [], failures: [.unreadable(file: folder, reason: "cannot list the folder")])
        }
        var apis: [APIDefinition] = []
        var failures: [ConfigError] = []
        for name in names {
            let path = (folder as NSString).appendingPathComponent(name)
            do {
                let api = try load(file: path)
                if let clash = apis.first(where: { $0.apiID == api.apiID }) {
                    throw ConfigError.conflict(file: path, reason: "api_id '\(api.apiID)' is already used by \(clash.file)")
                }
                if let clash = apis.first(where: { $0.listenPath == api.listenPath && $0.active && api.active }) {
                    throw ConfigError.conflict(file: path, reason: "listen_path '\(api.listenPath)' is already used by \(clash.file)")
                }
                apis.append(api)
            } catch let error as ConfigError {
                logger.error("API definition refused: \(error)")
                failures.append(error)
            } catch {
                failures.append(.unreadable(file: path, reason: "\(error)"))
            }
        }
        return Result(apis: apis, failures: failures)
    }

    /// Loads one API definition file.
    public func load(file: String) throws -> APIDefinition {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConfigError.unreadable(file: file, reason: "no such file or not readable")
        }
        var (api, ignored) = try APIDefinitionParser.parse(String(decoding: data, as: UTF8.self), file: file) { path in
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw ConfigError.unreadable(file: path, reason: "no such file")
            }
            return String(decoding: contents, as: UTF8.self)
        }
        api.addFolderMiddleware(root: middlewarePath)
        if !ignored.isEmpty {
            logger.debug("\(file): ignoring fields Portcullis does not use: \(ignored.joined(separator: ", "))")
        }
        return api
    }
}
