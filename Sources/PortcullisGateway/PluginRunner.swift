import Foundation
import PortcullisCore
import PortcullisJS

/// Runs one middleware file outside the gateway, the way the gateway would
/// call it, and reports everything it did: the request changes, the
/// overrides, the sessions it wrote and what it logged. Backs
/// `portcullis plugin run`.
public struct PluginRunner: Sendable {
    /// Which hook the plugin is run as; it decides the arguments it gets.
    public enum Hook: String, Sendable, CaseIterable {
        /// A `pre` hook: gets an empty session.
        case pre
        /// The custom auth hook (`auth_check`): gets an empty session, returns one.
        case auth
        /// A `post_key_auth` hook: gets the session.
        case postKeyAuth = "post_key_auth"
        /// A `post` hook: gets the session.
        case post
        /// A virtual endpoint function.
        case virtual
    }

    /// Everything needed for one run.
    public struct Input: Sendable {
        /// The plugin file.
        public var script: PluginScript
        /// The global name to call; nil to find the one middleware the file defines.
        public var handler: String?
        /// Which hook to run it as.
        public var hook: Hook
        /// The request fixture.
        public var request: MiniRequest
        /// The session known to the gateway for `key`, if any.
        public var session: JSONValue?
        /// The key the session is stored under.
        public var key: String?
        /// The spec object (`APIID`, `OrgID`, `config_data`).
        public var spec: PluginSpec

        /// Creates an input.
        public init(script: PluginScript, handler: String? = nil, hook: Hook = .pre, request: MiniRequest,
                    session: JSONValue? = nil, key: String? = nil, spec: PluginSpec) {
            self.script = script
            self.handler = handler
            self.hook = hook
            self.request = request
            self.session = session
            self.key = key
            self.spec = spec
        }
    }

    /// Why a run could not happen.
    public enum RunError: Error, CustomStringConvertible, Equatable {
        /// The file defines no middleware object, or several and none was named.
        case cannotChooseHandler(file: String, candidates: [String])

        public var description: String {
            switch self {
            case .cannotChooseHandler(let file, let candidates) where candidates.isEmpty:
                return "\(file) defines no middleware (`var name = new TykJS.TykMiddleware.NewMiddleware({})`); name the function to call with --handler"
            case .cannotChooseHandler(let file, let candidates):
                return "\(file) defines several middleware objects (\(candidates.joined(separator: ", "))); choose one with --handler"
            }
        }
    }

    private let engine: JSEngine
    private let transport: (any PluginHTTPTransport)?
    private let clock: any GatewayClock

    /// Creates a runner on an engine; `transport` serves `TykMakeHttpRequest`.
    public init(engine: JSEngine, transport: (any PluginHTTPTransport)?) {
        self.engine = engine
        self.transport = transport
        self.clock = engine.configuration.clock
    }

    /// Loads the plugin into a private realm, runs it once and reports.
    public func run(_ input: Input) async throws -> JSONValue {
        let handler = try input.handler ?? Self.inferHandler(in: input.script)
        let realm = "plugin-run:\(input.script.path)"
        try await engine.loadRealm(realm, scripts: [input.script])
        do {
            let report = try await run(input, handler: handler, realm: realm)
            await engine.dropRealm(realm)
            return report
        } catch {
            await engine.dropRealm(realm)
            throw error
        }
    }

    private func run(_ input: Input, handler: String, realm: String) async throws -> JSONValue {
        var seeded: [String: JSONValue] = [:]
        if let key = input.key, let session = input.session { seeded[key] = session }
        let host = LocalPluginHost(sessions: seeded, transport: transport, clock: clock)
        let sessionArgument = [.pre, .auth].contains(input.hook) ? "{}" : (input.session?.jsonString() ?? "{}")

        var report: [String: JSONValue] = ["handler": .string(handler), "hook": .string(input.hook.rawValue)]
        let logs: [PluginLogLine]
        if input.hook == .virtual {
            let outcome = try await engine.runVirtualEndpoint(realm: realm, handler: handler, request: Self.virtualRequest(input.request),
                                                              sessionJSON: sessionArgument, spec: input.spec, host: host)
            report["response"] = Self.response(outcome)
            report["sessionMeta"] = outcome.sessionMeta ?? .null
            logs = outcome.logs
        } else {
            let outcome = try await engine.runMiddleware(realm: realm, handler: handler, request: input.request,
                                                         sessionJSON: sessionArgument, spec: input.spec, host: host)
            report["request"] = Self.changes(outcome.request)
            report["returnOverrides"] = Self.overrides(outcome.request.returnOverrides)
            report["sessionMeta"] = outcome.sessionMeta.map { .object($0.mapValues(JSONValue.string)) } ?? .null
            if input.hook == .auth {
                report["session"] = outcome.session ?? .null
                report["authValue"] = outcome.authValue.map(JSONValue.string) ?? .null
            }
            logs = outcome.logs
        }
        report["sessionWrites"] = .array(host.writes.map { write in
            .object(["key": .string(write.key), "session": write.session, "suppressReset": .bool(write.suppressReset)])
        })
        report["logs"] = .array(logs.map { .object(["kind": .string($0.kind.rawValue), "message": .string($0.message)]) })
        return .object(report)
    }

    /// Finds the single `var NAME = new TykJS.TykMiddleware.NewMiddleware(...)` in a file.
    public static func inferHandler(in script: PluginScript) throws -> String {
        let pattern = #"(?:var|let|const)\s+([A-Za-z_$][\w$]*)\s*=\s*new\s+TykJS\.TykMiddleware\.NewMiddleware"#
        guard let regex = try? NSRegularExpression(pattern: pattern) else {
            throw RunError.cannotChooseHandler(file: script.path, candidates: [])
        }
        let source = script.source
        let matches = regex.matches(in: source, range: NSRange(source.startIndex..., in: source))
        var names: [String] = []
        for match in matches {
            if let range = Range(match.range(at: 1), in: source), !names.contains(String(source[range])) {
                names.append(String(source[range]))
            }
        }
        guard names.count == 1, let name = names.first else {
            throw RunError.cannotChooseHandler(file: script.path, candidates: names)
        }
        return name
    }

    /// What a virtual endpoint function receives for a request fixture.
    static func virtualRequest(_ request: MiniRequest) -> VirtualEndpointRequest {
        VirtualEndpointRequest(headers: request.headers, body: request.body, url: request.url, params: request.params,
                               scheme: request.scheme)
    }

    /// A virtual endpoint's answer as JSON: `{Code, Headers, Body}`.
    static func response(_ outcome: VirtualEndpointOutcome) -> JSONValue {
        .object([
            "Code": .int(Int64(outcome.code)), "Headers": .object(outcome.headers.mapValues(JSONValue.string)),
            "Body": .string(outcome.body),
        ])
    }

    /// The request changes a hook returned, with Tyk's field names.
    static func changes(_ request: MiniRequest) -> JSONValue {
        .object([
            "SetHeaders": .object(request.setHeaders.mapValues(JSONValue.string)),
            "DeleteHeaders": .array(request.deleteHeaders.map(JSONValue.string)),
            "Body": .string(request.body),
            "IgnoreBody": .bool(request.ignoreBody),
            "URL": .string(request.url),
            "AddParams": .object(request.addParams.mapValues(JSONValue.string)),
            "ExtendedParams": .object(request.extendedParams.mapValues { .array($0.map(JSONValue.string)) }),
            "DeleteParams": .array(request.deleteParams.map(JSONValue.string)),
        ])
    }

    /// `ReturnOverrides` as JSON, with Tyk's field names.
    static func overrides(_ overrides: ReturnOverrides) -> JSONValue {
        .object([
            "ResponseCode": .int(Int64(overrides.responseCode)),
            "ResponseError": .string(overrides.responseError),
            "ResponseBody": .string(overrides.responseBody),
            "ResponseHeaders": .object(overrides.responseHeaders.mapValues(JSONValue.string)),
            "OverrideError": .bool(overrides.overrideError),
        ])
    }
}
