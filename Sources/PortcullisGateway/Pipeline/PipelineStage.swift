/// What a stage decided.
public enum StageOutcome: Sendable {
    /// Go on to the next stage.
    case next
    /// Stop here and send this response (a plugin override, a virtual
    /// endpoint, the upstream's answer).
    case respond(GatewayResponse)
}

/// One named step of the request pipeline. A stage reads and changes the
/// request, then either lets it continue or answers it. Errors it throws
/// become Tyk-shaped error responses (``GatewayError``).
public protocol PipelineStage: Sendable {
    /// The stage's name in logs and metrics (`pre`, `auth`, `key_expiry`, …).
    var name: String { get }

    /// Runs the stage on one request.
    func run(_ request: inout GatewayRequest) async throws -> StageOutcome
}

/// A stage that rewrites the response on its way out (response hooks).
public protocol ResponseStage: Sendable {
    /// The stage's name in logs and metrics.
    var name: String { get }

    /// Changes the response for `request`.
    func run(_ response: inout GatewayResponse, for request: GatewayRequest) async throws
}
