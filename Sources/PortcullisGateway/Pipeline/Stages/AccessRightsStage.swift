/// 403 "Access to this API has been disallowed" unless the session grants
/// this API (a session with no access rights at all is a master key).
struct AccessRightsStage: PipelineStage {
    var name: String { "access_rights" }

    func runInline(_ request: inout GatewayRequest) throws -> StageOutcome? {
        try decide(request)
    }

    func run(_ request: inout GatewayRequest) async throws -> StageOutcome {
        try decide(request)
    }

    private func decide(_ request: GatewayRequest) throws -> StageOutcome {
        guard let session = request.session?.session else { return .next }
        if session.accessRights.isEmpty || session.accessRights[request.api.definition.apiID] != nil {
            return .next
        }
        throw GatewayError.notGranted
    }
}
