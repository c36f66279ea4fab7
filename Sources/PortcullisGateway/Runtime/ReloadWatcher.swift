import Foundation
import Logging

/// `portcullis serve --watch`: reloads the gateway when an API definition
/// or a plugin file changes, as `POST /tyk/reload` would. Polls modification
/// times (no platform file-event API needed, works on every filesystem,
/// including bind mounts); a reload never drops requests in flight, and an
/// API whose new version is broken keeps serving its old one.
public struct ReloadWatcher: Sendable {
    private let gateway: Gateway
    private let interval: Duration
    private let settle: Duration

    /// Watches `gateway`'s `app_path`, the plugin files its definitions
    /// name and `tyk_js_path`, every `interval`. After a change it waits
    /// `settle` so an editor's write has finished before reloading.
    public init(gateway: Gateway, interval: Duration = .seconds(1), settle: Duration = .milliseconds(200)) {
        self.gateway = gateway
        self.interval = interval
        self.settle = settle
    }

    /// Polls until the task is cancelled; each reload is logged with the
    /// files that changed and every API refused.
    public func run() async {
        let logger = gateway.services.logger
        var known = fingerprint()
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            var current = fingerprint()
            guard current != known else { continue }
            do { try await Task.sleep(for: settle) } catch { return }
            current = fingerprint()
            let changed = Set(current.keys).union(known.keys).filter { current[$0] != known[$0] }.sorted()
            known = current
            let refused = await gateway.reload()
            logger.info("reloaded after a change to \(changed.joined(separator: ", ")): \(gateway.loadedAPIs.count) API(s) serving, \(refused.count) refused")
            for reason in refused { logger.error("\(reason); the previous version, if any, keeps serving") }
        }
    }

    /// Path → modification time and size of every watched file; a file
    /// that appears or disappears changes it too.
    func fingerprint() -> [String: String] {
        let config = gateway.services.config
        var paths = Set<String>()
        if let names = try? FileManager.default.contentsOfDirectory(atPath: config.appPath) {
            for name in names where name.hasSuffix(".json") { paths.insert((config.appPath as NSString).appendingPathComponent(name)) }
        }
        let quiet = Logger(label: "portcullis.watch") { _ in SwiftLogNoOpLogHandler() }
        let definitions = APIDefinitionLoader(middlewarePath: config.middlewarePath, logger: quiet).load(folder: config.appPath)
        for api in definitions.apis {
            for entry in api.middleware.all where !entry.path.isEmpty { paths.insert(entry.path) }
            for endpoint in api.virtualEndpoints where !endpoint.source.path.isEmpty { paths.insert(endpoint.source.path) }
        }
        if !config.tykJSPath.isEmpty { paths.insert(config.tykJSPath) }
        var result: [String: String] = [:]
        for path in paths {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
                result[path] = "missing"
                continue
            }
            let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            let size = (attributes[.size] as? NSNumber)?.int64Value ?? -1
            result[path] = "\(modified)/\(size)"
        }
        return result
    }
}
