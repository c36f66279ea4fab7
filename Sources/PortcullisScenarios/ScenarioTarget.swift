import PortcullisCore

/// What the runner needs from the gateway under test: in-process nodes on
/// a virtual clock (``LocalTarget``) or a live gateway over HTTP
/// (``RemoteTarget``). A target that cannot do something throws
/// ``StepSkipped`` with the reason.
protocol ScenarioTarget: Sendable {
    /// The admin secret for `x-tyk-authorization`.
    var adminSecret: String { get }
    /// Placeholder values at this moment (the target's clock).
    func templates() -> TemplateContext
    /// Sends one HTTP request to a node (nil: the first).
    func send(method: String, path: String, headers: [(String, String)], body: [UInt8], node: String?) async throws -> Exchange
    /// Moves the clock.
    func advance(seconds: Double) async throws
    /// Changes the store's health.
    func setStore(_ fault: StoreFault) async throws
    /// Writes a session record straight into the store.
    func writeDirect(key: String, sessionJSON: String) async throws
    /// Deletes a session record straight from the store.
    func deleteDirect(key: String) async throws
    /// Reads a session record straight from the store.
    func readDirect(key: String) async throws -> String?
    /// What `TykGetKeyData(key, apiID)` answers in that API's plugins.
    func pluginKeyData(key: String, apiID: String?, node: String?) async throws -> String
    /// Replaces the policy file and reloads every node; answers what was refused.
    func replacePolicies(_ json: String) async throws -> [String]
    /// How many log lines were captured so far.
    func logMark() throws -> Int
    /// The log lines captured since `mark`.
    func logLines(since mark: Int) throws -> [CapturedLogLine]
    /// Stops what the target started.
    func close() async
}

/// One HTTP response as the runner checks it.
struct Exchange: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }

    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// A step the target cannot perform, and why.
struct StepSkipped: Error {
    let reason: String
}
