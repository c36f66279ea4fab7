import PortcullisCore
import PortcullisJS

/// Answers paths the API serves from JavaScript (`extended_paths.virtual`)
/// without calling the upstream.
struct VirtualEndpointStage: PipelineStage {
    let api: LoadedAPI
    let services: GatewayServices
    /// Each endpoint with its path matcher, in definition order.
    private let endpoints: [(definition: VirtualEndpointDefinition, matcher: EndpointPattern.Matcher)]
    var name: String { "virtual_endpoint" }

    init(api: LoadedAPI, services: GatewayServices) {
        self.api = api
        self.services = services
        let config = services.config
        endpoints = api.definition.virtualEndpoints.map {
            ($0, $0.pattern.matcher(prefix: config.pathPrefixMatching, suffix: config.pathSuffixMatching,
                                    ignoreCase: config.ignoreEndpointCase))
        }
    }

    /// A request no virtual endpoint serves goes on at once.
    func runInline(_ request: inout GatewayRequest) throws -> StageOutcome? {
        endpoint(for: request) == nil ? .next : nil
    }

    /// The first endpoint for the method whose pattern occurs in the path
    /// with the listen path stripped, or else in the full path, as in Tyk.
    private func endpoint(for request: GatewayRequest) -> VirtualEndpointDefinition? {
        guard !endpoints.isEmpty else { return nil }
        let relative = ProxyStage.relativePath(request.path, listenPath: api.definition.listenPath)
        return endpoints.first {
            $0.definition.method == request.method && ($0.matcher.matches(relative) || $0.matcher.matches(request.path))
        }?.definition
    }

    func run(_ request: inout GatewayRequest) async throws -> StageOutcome {
        guard let endpoint = endpoint(for: request) else { return .next }
        let text = ByteText.decode(request.body).text
        var params = RequestFixture.queryParameters(of: request.pathAndQuery)
        if request.headers.first("content-type")?.hasPrefix("application/x-www-form-urlencoded") == true {
            for (name, values) in RequestFixture.queryParameters(of: "/?" + text) { params[name, default: []] += values }
        }
        var vepRequest = VirtualEndpointRequest(headers: request.headers.grouped(), body: text, url: request.pathAndQuery,
                                                params: params, scheme: request.scheme)
        vepRequest.attributes = request.attributes
        let sessionJSON = endpoint.useSession ? (request.session?.session.jsonText() ?? "{}") : "{}"
        do {
            let outcome = try await services.timedPlugin(request, plugin: endpoint.functionName) { [request] span in
                try await services.engine.runVirtualEndpoint(realm: api.realm, handler: endpoint.functionName, request: vepRequest,
                                                             sessionJSON: sessionJSON, spec: api.spec,
                                                             host: services.pluginHost(for: request, span: span))
            }
            if endpoint.useSession, let meta = outcome.sessionMeta?.objectValue {
                try await HookResults.replaceMetaData(meta, in: &request, services: services)
            }
            var headers = HeaderList()
            for (name, value) in outcome.headers.sorted(by: { $0.key < $1.key }) where HeaderList.isSafe(name: name, value: value) {
                headers.add(name, value)
            }
            if let loop = LoopLocation.looping(status: outcome.code, location: headers.first("Location")) {
                return .respond(await services.loops.follow(loop, from: request, services: services))
            }
            return .respond(GatewayResponse(status: outcome.code, headers: headers, body: Array(outcome.body.utf8)))
        } catch let error as PluginError {
            if endpoint.proxyOnError { return .next }
            services.logger.error("virtual endpoint \(endpoint.functionName) failed: \(error)",
                                  metadata: ["api_id": .string(api.definition.apiID), "request_id": .string(request.id)])
            if case .timedOut = error {
                return .respond(GatewayResponse.error(
                    status: 504, message: "Virtual endpoint timed out. Contact Administrator for more details."))
            }
            return .respond(GatewayResponse.error(
                status: 500, message: "Error during virtual endpoint execution. Contact Administrator for more details."))
        }
    }
}
