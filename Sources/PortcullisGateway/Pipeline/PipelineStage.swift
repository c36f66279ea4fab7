/// What a stage decided.
public enum StageOutcome: Sendable {
    /// Go on to the next stage.
    case next
    /// Stop here and send this response (a plugin override, a virtual
    /// endpoint).
    case respond(GatewayResponse)
    /// Send this to the upstream; the response stages run on its answer.
    case forward(UpstreamRequest)
}

/// One named step of the request pipeline. A stage reads and changes the
/// request, then either lets it continue or answers it. Errors it throws
/// become Tyk-shaped error responses (``GatewayError``).
public protocol PipelineStage: Sendable {
    /// The stage's name in logs and metrics (`pre`, `auth`, `key_expiry`, …).
    var name: String { get }

    /// Decides at once, without waiting, when the stage can: nothing to do,
    /// or only local work (a header check, a session found in this node's
    /// coherent cache). nil means the stage must wait for something (a
    /// JS worker, a store round trip) and ``run(_:)`` is called instead.
    ///
    /// A request whose every stage decides here is served on its event
    /// loop without a task, continuation or thread hop.
    func runInline(_ request: inout GatewayRequest) throws -> StageOutcome?

    /// Runs the stage on one request.
    func run(_ request: inout GatewayRequest) async throws -> StageOutcome

    /// Starts the stage's waiting work without a task, where it can (a JS
    /// hook handed to a worker thread): `done` is called once, on any
    /// thread, with the request as the stage left it and the outcome.
    /// Returns false when the stage needs ``run(_:)`` in a task instead.
    func start(_ request: GatewayRequest, done: @escaping @Sendable (GatewayRequest, Result<StageOutcome, any Error>) -> Void) -> Bool
}

extension PipelineStage {
    /// Stages that always wait.
    public func runInline(_ request: inout GatewayRequest) throws -> StageOutcome? { nil }

    /// Stages that wait in a task.
    public func start(_ request: GatewayRequest,
                      done: @escaping @Sendable (GatewayRequest, Result<StageOutcome, any Error>) -> Void) -> Bool { false }
}

/// A stage that rewrites the response on its way out (response hooks).
public protocol ResponseStage: Sendable {
    /// The stage's name in logs and metrics.
    var name: String { get }

    /// Changes the response for `request`.
    func run(_ response: inout GatewayResponse, for request: GatewayRequest) async throws
}
