import PortcullisCore

/// One regression scenario: the gateway it needs and the steps to replay
/// on a clock, as read from a scenario file.
public struct Scenario: Sendable {
    /// The file it came from (for messages).
    public var file: String
    /// Short name shown in reports.
    public var name: String
    /// What it demonstrates, in a sentence or two.
    public var description: String
    /// The seed document or forum thread it replays (e.g. "seed 002").
    public var source: String?
    /// How it is expected to end when run with Tyk's race semantics.
    public var underTykRace: ExpectedOutcome
    /// Why the scenario cannot run yet; pending scenarios are reported, not run.
    public var pending: String?
    /// The store the gateway nodes share.
    public var store: StoreKind
    /// Node names; requests and admin calls name one (default: the first).
    public var nodes: [String]
    /// Unix seconds the virtual clock starts at.
    public var clockStart: Int64
    /// `tyk.conf` to start from, relative to the scenario file; nil for built-in defaults.
    public var configFile: String?
    /// `tyk.conf` fields set on top of the config file.
    public var settings: [String: JSONValue]
    /// The API definitions to load.
    public var apis: [APISource]
    /// Security policies by id (`policies`), served from a policy file.
    public var policies: JSONValue?
    /// The steps, in order.
    public var steps: [ScenarioStep]

    /// The result expected under ``PortcullisGateway/SessionSemantics/tykRace``.
    public enum ExpectedOutcome: String, Sendable {
        /// The scenario detects the race: it must fail there.
        case fails
        /// The scenario does not depend on the race.
        case passes
    }

    /// Where the nodes keep sessions.
    public enum StoreKind: String, Sendable {
        /// The embedded in-memory store (TTLs follow the virtual clock).
        case memory
        /// A real redis-server (TTLs follow the wall clock).
        case redis
    }

    /// An API definition: a file (relative to the scenario) or inline JSON.
    public enum APISource: Sendable {
        case file(String)
        case inline(JSONValue)
    }
}

/// One step of a scenario.
public struct ScenarioStep: Sendable {
    /// 1-based position in the file.
    public var index: Int
    /// The step's `name`, or a description of its action.
    public var name: String
    /// What it does.
    public var action: StepAction
}

/// What a step does.
public enum StepAction: Sendable {
    /// Create or replace a session (`create_key` / `update_key`).
    case writeKey(KeyWrite)
    /// Delete a session (`delete_key`).
    case deleteKey(key: String, via: KeyChannel, node: String?)
    /// Send a request (`request`), `count` times, one after another or all at once.
    case request(RequestSpec, ResponseExpectation, count: Int, concurrent: Bool)
    /// Move the clock (`advance`).
    case advance(seconds: Double)
    /// Change the store's health (`store`).
    case store(StoreFault)
    /// Check a stored session (`expect_session`).
    case expectSession(SessionExpectation)
    /// Check what the gateway logged during the previous step (`expect_log`).
    case expectLog(LogExpectation)
    /// Reload API definitions and plugins (`reload`).
    case reload(node: String?)
    /// Replace the policies and reload every node (`set_policies`).
    case setPolicies(JSONValue)

    /// Whether later steps depend on this one having happened; if it has
    /// to be skipped, the rest of the scenario is skipped too.
    var changesState: Bool {
        switch self {
        case .expectSession, .expectLog: return false
        default: return true
        }
    }
}

/// How a step reaches sessions.
public enum KeyChannel: String, Sendable {
    /// The gateway's admin API (`/tyk/keys/{key}`).
    case admin
    /// Straight into the store, behind the gateway's back.
    case store
    /// `TykGetKeyData` inside the API's plugins (reads only).
    case plugin
}

/// A `create_key` / `update_key` step.
public struct KeyWrite: Sendable {
    /// The key as clients present it.
    public var key: String
    /// The session JSON (templates allowed).
    public var session: JSONValue
    /// Admin API or raw store.
    public var via: KeyChannel
    /// Update rather than create.
    public var isUpdate: Bool
    /// Keep the quota fields as given (`?suppress_reset=1`, as `TykSetKeyData(k, s, true)`).
    public var suppressReset: Bool
    /// The node whose admin API is used.
    public var node: String?
}

/// A request to send.
public struct RequestSpec: Sendable {
    /// HTTP method.
    public var method: String
    /// Path with optional `?query`.
    public var path: String
    /// Headers (templates allowed in values).
    public var headers: [(String, String)]
    /// Body text.
    public var body: String
    /// The node to send it to.
    public var node: String?
}

/// What a response must look like; unset parts are not checked.
public struct ResponseExpectation: Sendable {
    /// Status code (a number, or a matcher such as `{"$one_of": [500, 503]}`).
    public var status: ValueMatcher?
    /// Exact body.
    public var body: String?
    /// Substrings the body must contain.
    public var bodyContains: [String] = []
    /// Fields of the JSON body, by dotted path.
    public var json: [(String, ValueMatcher)] = []
    /// Response headers (exact value or a matcher).
    public var headers: [(String, ValueMatcher)] = []
}

/// An `expect_session` step.
public struct SessionExpectation: Sendable {
    /// The key.
    public var key: String
    /// Read through the admin API, TykGetKeyData or the raw store.
    public var via: KeyChannel
    /// The API whose plugins read it (`via: plugin`); default the first API.
    public var apiID: String?
    /// The node to ask.
    public var node: String?
    /// True when the session must not exist.
    public var missing: Bool
    /// Session fields by dotted path.
    public var fields: [(String, ValueMatcher)]
}

/// An `expect_log` step.
public struct LogExpectation: Sendable {
    /// Text a log line must contain.
    public var contains: String
    /// The level it must be logged at, if given.
    public var level: String?
    /// True when no such line may appear.
    public var absent: Bool
}

/// A `store` step.
public enum StoreFault: Sendable, Equatable {
    /// Every store call fails (Redis: the server is killed).
    case down
    /// Service restored (Redis: the server restarted on its port).
    case up
    /// Every store call takes this long (memory store only).
    case latency(seconds: Double)
}
