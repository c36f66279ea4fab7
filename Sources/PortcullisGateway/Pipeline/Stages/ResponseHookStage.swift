import PortcullisJS

/// Runs the API's JS response hooks on the upstream's answer. A failing
/// hook turns the response into 500 `{"error": "Middleware error"}`, as in Tyk.
struct ResponseHookStage: ResponseStage {
    let api: LoadedAPI
    let services: GatewayServices
    var name: String { "response" }

    func run(_ response: inout GatewayResponse, for request: GatewayRequest) async throws {
        for hook in api.definition.middleware.response where !hook.disabled {
            let (text, encoding) = ByteText.decode(response.body)
            let mini = MiniResponse(statusCode: response.status, body: text, headers: response.headers.grouped())
            var (requestView, _) = request.miniRequest()
            requestView.body = ""
            do {
                let sessionJSON = request.session?.session.jsonText() ?? "{}"
                let outcome = try await services.timedPlugin(request, plugin: hook.name) { [requestView] span in
                    try await services.engine.runResponseMiddleware(realm: api.realm, handler: hook.name, response: mini,
                                                                    request: requestView, sessionJSON: sessionJSON, spec: api.spec,
                                                                    host: services.pluginHost(for: request, span: span))
                }
                let changed = outcome.response
                for name in changed.deleteHeaders { response.headers.remove(name) }
                for (name, value) in changed.setHeaders {
                    guard HeaderList.isSafe(name: name, value: value) else {
                        throw GatewayError.pluginFailed("response hook \(hook.name) set an unsafe header '\(name)'")
                    }
                    response.headers.set(services.config.ignoreCanonicalMIMEHeaderKey ? name : HeaderList.canonical(name), value)
                }
                response.body = encoding.encode(changed.body)
                if changed.statusCode != 0 { response.status = changed.statusCode }
            } catch {
                services.logger.error("response hook \(hook.name) failed: \(error)",
                                      metadata: ["api_id": .string(api.definition.apiID), "request_id": .string(request.id)])
                response = GatewayResponse.error(status: 500, message: "Middleware error")
                return
            }
        }
    }
}
