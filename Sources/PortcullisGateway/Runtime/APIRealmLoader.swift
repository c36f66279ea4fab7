import Foundation
import Logging
import PortcullisJS

/// Loads each API's plugin files into its own engine realm. A plugin that
/// does not load refuses its API with the file and line; the rest serve.
struct APIRealmLoader {
    let services: GatewayServices

    /// Loads `apis` under realm names of this `generation`; returns the
    /// loaded APIs and one message per refused API.
    ///
    /// A plugin file that does not load refuses a new version of an API
    /// that is `serving` (the old one keeps serving). An API loading for
    /// the first time is served anyway, failing closed as Tyk does: the
    /// broken file's hooks answer 500 (a virtual endpoint its error body,
    /// or the upstream with `proxy_on_error`), and the file and line are
    /// logged and reported.
    func load(_ apis: [APIDefinition], generation: Int, serving: Set<String> = []) async -> (loaded: [LoadedAPI], failures: [String]) {
        var loaded: [LoadedAPI] = []
        var failures: [String] = []
        let shared = sharedScripts()
        for api in apis where api.active {
            let realm = "\(api.apiID)@\(generation)"
            do {
                let scripts = try shared.get() + (try scripts(for: api))
                if !api.middleware.all.isEmpty && api.middleware.driver.isEmpty {
                    services.logger.warning("\(api.file): custom_middleware has no driver; running its hooks as JavaScript (Tyk would drop them)")
                }
                if !services.config.enableJSVM && !(api.middleware.all.isEmpty && api.virtualEndpoints.isEmpty) {
                    throw ConfigError.invalidField(file: api.file, field: "custom_middleware",
                                                   reason: "the API has JS hooks but enable_jsvm is false in the gateway config")
                }
                var jwt: JWTVerifier?
                if let settings = api.jwt {
                    let verifier = try await JWTVerifier.make(settings, file: api.file)
                    if verifier.hasShortSecret {
                        services.logger.warning("\(api.file): the HS256 secret in jwt_source is shorter than 32 bytes; anyone who guesses it can mint tokens")
                    }
                    jwt = verifier
                }
                let driver = JSDriver(configName: api.middleware.driver)
                let firstLoad = !serving.contains(api.apiID)
                let broken = try await services.engine.loadRealm(realm, scripts: scripts, driver: driver, skippingBrokenFiles: firstLoad)
                for error in broken {
                    let message = "API \(api.apiID) (\(api.file)) serves without a plugin file that did not load; its hooks answer 500: \(error)"
                    services.logger.error("\(message)")
                    failures.append(message)
                }
                loaded.append(LoadedAPI(definition: api, realm: realm, jwt: jwt))
            } catch {
                let message = "API \(api.apiID) (\(api.file)) not loaded: \(error)"
                services.logger.error("\(message)")
                failures.append(message)
            }
        }
        return (loaded, failures)
    }

    private func sharedScripts() -> Result<[PluginScript], ConfigError> {
        let path = services.config.tykJSPath
        guard !path.isEmpty else { return .success([]) }
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(.unreadable(file: path, reason: "tyk_js_path file not found"))
        }
        return .success([PluginScript(path: path, source: String(decoding: data, as: UTF8.self))])
    }

    private func scripts(for api: APIDefinition) throws -> [PluginScript] {
        var scripts: [PluginScript] = []
        var seen: Set<String> = []
        for entry in api.middleware.all where !entry.disabled && !seen.contains(entry.path) {
            seen.insert(entry.path)
            guard entry.path.contains(".js") else {
                throw ConfigError.invalidField(file: api.file, field: "custom_middleware.\(entry.name).path",
                                               reason: "'\(entry.path)' is not a .js file")
            }
            guard let data = FileManager.default.contents(atPath: entry.path) else {
                throw ConfigError.invalidField(file: api.file, field: "custom_middleware.\(entry.name).path",
                                               reason: "cannot read '\(entry.path)'")
            }
            scripts.append(PluginScript(path: entry.path, source: String(decoding: data, as: UTF8.self)))
        }
        for endpoint in api.virtualEndpoints where !seen.contains(endpoint.source.path) {
            seen.insert(endpoint.source.path)
            scripts.append(endpoint.source)
        }
        return scripts
    }
}
