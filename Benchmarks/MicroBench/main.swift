import _CryptoExtras
import Crypto
import Foundation
import Logging
import MallocInterposerSwift
import PortcullisCore
import PortcullisGateway
import PortcullisJS
import PortcullisScenarios
import PortcullisSessions

// `make bench` microbenchmarks: the JS engine (a worker hop, a middleware
// call), each binding, session reads and writes per store, RESP
// pipelining, and session JSON. Each line gives operations per second,
// microseconds per operation, and heap allocations and bytes per operation
// (counted when the binary runs with LD_PRELOAD=libMallocInterposerSwift.so,
// which `make bench` does; otherwise "-").

struct Measurement {
    var label: String
    var operations: Int
    var seconds: Double
    var mallocs: Int?
    var bytes: Int?
}

let interposed = ProcessInfo.processInfo.environment["LD_PRELOAD"]?.contains("MallocInterposer") ?? false
/// `MICROBENCH_ONLY=text` runs only the measurements whose label contains it.
let onlyLabels = ProcessInfo.processInfo.environment["MICROBENCH_ONLY"].flatMap { $0.isEmpty ? nil : $0 }


/// Runs `body` `count` times after a warm-up, counting allocations across every thread.
func measure(_ label: String, count: Int, warmUp: Int = 200, operationsPerCall: Int = 1,
             _ body: () async throws -> Void) async rethrows {
    if let onlyLabels, !label.contains(onlyLabels) { return }
    for _ in 0..<warmUp { try await body() }
    if interposed { MallocInterposerSwift.reset(); MallocInterposerSwift.hook() }
    let start = ContinuousClock.now
    for _ in 0..<count { try await body() }
    let elapsed = (ContinuousClock.now - start).secondsValue
    var mallocs: Int?
    var bytes: Int?
    if interposed {
        MallocInterposerSwift.unhook()
        let statistics = MallocInterposerSwift.getStatistics()
        mallocs = statistics.mallocCount
        bytes = statistics.mallocBytesCount
    }
    let operations = count * operationsPerCall
    print(format(Measurement(label: label, operations: operations, seconds: elapsed, mallocs: mallocs, bytes: bytes)))
}

/// The same for synchronous work, run without an await per operation: an
/// await from the top level hops executors, which costs more than most of
/// what is measured here.
func measure(_ label: String, count: Int, warmUp: Int = 200, operationsPerCall: Int = 1,
             _ body: () throws -> Void) rethrows {
    if let onlyLabels, !label.contains(onlyLabels) { return }
    for _ in 0..<warmUp { try body() }
    if interposed { MallocInterposerSwift.reset(); MallocInterposerSwift.hook() }
    let start = ContinuousClock.now
    for _ in 0..<count { try body() }
    let elapsed = (ContinuousClock.now - start).secondsValue
    var mallocs: Int?
    var bytes: Int?
    if interposed {
        MallocInterposerSwift.unhook()
        let statistics = MallocInterposerSwift.getStatistics()
        mallocs = statistics.mallocCount
        bytes = statistics.mallocBytesCount
    }
    print(format(Measurement(label: label, operations: count * operationsPerCall, seconds: elapsed, mallocs: mallocs, bytes: bytes)))
}

/// Many concurrent callers; throughput only.
func throughput(_ label: String, count: Int, callers: Int, _ body: @escaping @Sendable () async throws -> Void) async throws {
    if let onlyLabels, !label.contains(onlyLabels) { return }
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<callers {
            group.addTask { for _ in 0..<(count / callers) { try await body() } }
        }
        try await group.waitForAll()
    }
    print(format(Measurement(label: label, operations: count / callers * callers, seconds: (ContinuousClock.now - start).secondsValue)))
}

func format(_ m: Measurement) -> String {
    let perOp = m.seconds / Double(m.operations) * 1e6
    let allocs = m.mallocs.map { String(format: "%8.1f", Double($0) / Double(m.operations)) } ?? "       -"
    let bytes = m.bytes.map { String(format: "%9.0f", Double($0) / Double(m.operations)) } ?? "        -"
    let label = m.label.padding(toLength: 58, withPad: " ", startingAt: 0)
    return label + String(format: " %10.0f ops/s %9.2f µs/op %@ allocs/op %@ B/op",
                          Double(m.operations) / m.seconds, perOp, allocs, bytes)
}

let quiet: Logger = {
    var logger = Logger(label: "bench")
    logger.logLevel = .critical
    return logger
}()
let cores = ProcessInfo.processInfo.activeProcessorCount
print("cores: \(cores); allocation counting: \(interposed ? "on" : "off (run through make bench)")")
print(String(repeating: "-", count: 130))

// MARK: JS engine and bindings

let plugin = """
var bench = new TykJS.TykMiddleware.NewMiddleware({});
bench.NewProcessRequest(function (request, session, config) {
    request.SetHeaders["X-Bench"] = request.Headers["Authorization"][0];
    return bench.ReturnData(request, {});
});
function loopB64(n) { var s = ""; for (var i = 0; i < n; i++) { s = b64enc("portcullis-" + i); } return s.length; }
function loopLog(n) { for (var i = 0; i < n; i++) { log("line " + i); } return n; }
function loopGet(n) { var s; for (var i = 0; i < n; i++) { s = TykGetKeyData("key-1", "bench"); } return s.length; }
function loopSet(n) {
    var s = TykGetKeyData("key-1", "bench");
    for (var i = 0; i < n; i++) { TykSetKeyData("key-1", s, "1"); }
    return n;
}
function loopHTTP(n, base) {
    var code = 0;
    for (var i = 0; i < n; i++) {
        code = JSON.parse(TykMakeHttpRequest(JSON.stringify({Method: "GET", Domain: base, Resource: "/echo"}))).Code;
    }
    return code;
}
"""
let upstream = try await LoopbackUpstream.start()
let transport = HTTPClientTransport()
let engine = JSEngine(configuration: JSEngineConfiguration(workerCount: 2 * cores, logger: quiet))
try await engine.loadRealm("bench", scripts: [PluginScript(path: "bench.js", source: plugin)])
let sessionValue = try JSONValue(parsing: """
{"expires": 1900000000, "quota_max": -1, "meta_data": {"tier": "gold"},
 "access_rights": {"bench": {"api_id": "bench", "api_name": "bench", "versions": ["Default"]}}}
""")
let host = LocalPluginHost(sessions: ["key-1": sessionValue], transport: transport)
let request = MiniRequest(headers: ["Authorization": ["key-1"], "Accept": ["*/*"]], url: "/")
let spec = PluginSpec(apiID: "bench", orgID: "org")

try await measure("engine: worker hop (evaluate \"1\")", count: 20_000) {
    _ = try await engine.evaluate("1", realm: "bench")
}
try await measure("engine: middleware call, 1 caller", count: 20_000) {
    _ = try await engine.runMiddleware(realm: "bench", handler: "bench", request: request, spec: spec, host: host)
}
try await throughput("engine: middleware call, 32 callers", count: 40_000, callers: 32) {
    _ = try await engine.runMiddleware(realm: "bench", handler: "bench", request: request, spec: spec, host: host)
}
try await measure("binding: b64enc", count: 20, warmUp: 2, operationsPerCall: 1000) {
    _ = try await engine.evaluate("loopB64(1000)", realm: "bench", host: host)
}
try await measure("binding: log", count: 20, warmUp: 2, operationsPerCall: 1000) {
    _ = try await engine.evaluate("loopLog(1000)", realm: "bench", host: host)
}
try await measure("binding: TykGetKeyData (in-memory host)", count: 20, warmUp: 2, operationsPerCall: 500) {
    _ = try await engine.evaluate("loopGet(500)", realm: "bench", host: host)
}
try await measure("binding: TykSetKeyData (in-memory host)", count: 20, warmUp: 2, operationsPerCall: 500) {
    _ = try await engine.evaluate("loopSet(500)", realm: "bench", host: host)
}
try await measure("binding: TykMakeHttpRequest (loopback upstream)", count: 10, warmUp: 1, operationsPerCall: 200) {
    _ = try await engine.evaluate("loopHTTP(200, \"\(upstream.base)\")", realm: "bench", host: host)
}

// MARK: Async handlers: 4 sequential TykMakeHttpRequest calls against 4 parallel fetch() calls
try await engine.loadRealm("fan-out", scripts: [PluginScript(path: "fanout.js", source: """
    var sequential = new TykJS.TykMiddleware.NewMiddleware({});
    sequential.NewProcessRequest(function (request, session, config) {
        for (var i = 0; i < 4; i++) {
            TykMakeHttpRequest(JSON.stringify({Method: "GET", Domain: "\(upstream.base)", Resource: "/delay/100"}));
        }
        return sequential.ReturnData(request, {});
    });
    var parallel = new TykJS.TykMiddleware.NewMiddleware({});
    parallel.NewProcessRequest(async function (request, session, config) {
        var calls = [];
        for (var i = 0; i < 4; i++) { calls.push(fetch("\(upstream.base)/delay/100")); }
        await Promise.all(calls);
        return parallel.ReturnData(request, {});
    });
    """)])
try await measure("fan-out: 4 × TykMakeHttpRequest, 100 ms upstream (sequential)", count: 10, warmUp: 1) {
    _ = try await engine.runMiddleware(realm: "fan-out", handler: "sequential", request: request, spec: spec, host: host)
}
try await measure("fan-out: 4 × fetch() in Promise.all, 100 ms upstream", count: 10, warmUp: 1) {
    _ = try await engine.runMiddleware(realm: "fan-out", handler: "parallel", request: request, spec: spec, host: host)
}

// MARK: JWT verification (HS256 in swift-crypto, RS256 through jwt-kit)
let jwtNow = Int64(Date().timeIntervalSince1970)
let jwtClaims = Base64URL.encode(Array(#"{"exp":\#(jwtNow + 3600),"sub":"alice"}"#.utf8))
let hmacSecret = "a-benchmark-secret-of-at-least-32-bytes"
let hsInput = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8)) + "." + jwtClaims
let hsToken = hsInput + "." + Base64URL.encode(HMAC<SHA256>.authenticationCode(for: Array(hsInput.utf8), using: SymmetricKey(data: Array(hmacSecret.utf8))))
let hsVerifier = try await JWTVerifier.make(JWTSettings(signingMethod: .hmac, key: hmacSecret), file: "bench.json")
let rsaKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
let rsInput = Base64URL.encode(Array(#"{"alg":"RS256","typ":"JWT"}"#.utf8)) + "." + jwtClaims
let rsSignature = try rsaKey.signature(for: Array(rsInput.utf8), padding: .insecurePKCS1v1_5)
let rsToken = rsInput + "." + Base64URL.encode(rsSignature.rawRepresentation)
let rsVerifier = try await JWTVerifier.make(JWTSettings(signingMethod: .rsa, key: rsaKey.publicKey.pemRepresentation), file: "bench.json")
guard case .success = await hsVerifier.identity(of: hsToken, now: jwtNow),
      case .success = await rsVerifier.identity(of: rsToken, now: jwtNow) else { fatalError("benchmark tokens do not verify") }
await measure("JWT: HS256 verify + claims", count: 20_000) {
    _ = await hsVerifier.identity(of: hsToken, now: jwtNow)
}
await measure("JWT: RS256 verify + claims (2048-bit)", count: 5_000) {
    _ = await rsVerifier.identity(of: rsToken, now: jwtNow)
}

// MARK: Metrics
let benchMetrics = GatewayMetrics()
for api in 0..<20 {
    for code in [200, 401, 403, 429] { benchMetrics.recordRequest(api: "api-\(api)", status: code) }
    benchMetrics.recordPluginDuration(api: "api-\(api)", plugin: "hook", duration: .milliseconds(1))
}
measure("metrics: record one plugin duration", count: 100_000) {
    benchMetrics.recordPluginDuration(api: "api-1", plugin: "hook", duration: .milliseconds(2))
}
measure("metrics: record one request", count: 100_000) {
    benchMetrics.recordRequest(api: "api-1", status: 200)
}
let probe = Locked([String: Int]())
measure("baseline: one locked dictionary update (the floor of this harness)", count: 100_000) {
    probe.withLock { $0["k", default: 0] += 1 }
}
measure("metrics: render /metrics (20 APIs)", count: 5_000) {
    _ = benchMetrics.render()
}

// MARK: Session JSON

let sessionText = sessionValue.jsonString()
try measure("session JSON: parse (JSONReader)", count: 50_000) {
    _ = try JSONValue(parsing: sessionText)
}
try measure("session JSON: parse (JSONDecoder, Codable)", count: 50_000) {
    _ = try JSONDecoder().decode(JSONValue.self, from: Data(sessionText.utf8))
}
measure("session JSON: write (JSONValue.jsonString)", count: 50_000) {
    _ = sessionValue.jsonString()
}
try measure("session JSON: write (JSONEncoder, Codable)", count: 50_000) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    _ = try encoder.encode(sessionValue)
}
try measure("session JSON: SessionState decode + encode", count: 50_000) {
    _ = try SessionState(jsonText: sessionText).jsonText()
}
let decodedSession = try SessionState(jsonText: sessionText)
try measure("session JSON: SessionState decode", count: 50_000) {
    _ = try SessionState(jsonText: sessionText)
}
measure("session JSON: SessionState encode (jsonText)", count: 50_000) {
    _ = decodedSession.jsonText()
}
// What a renewal plugin passes to TykSetKeyData: a few fields, one API.
let pluginWriteText = #"{"expires":1796669771,"quota_max":1000,"quota_remaining":1000,"quota_renewal_rate":60,"alias":"bench-session-key-0001","access_rights":{"forum-api":{"api_name":"forum","api_id":"forum-api","versions":["Default"],"allowed_urls":null}}}"#
try measure("session JSON: SessionState decode (a plugin's TykSetKeyData text)", count: 50_000) {
    _ = try SessionState(jsonText: pluginWriteText)
}

// What a pre hook is handed on every request: the request object's JSON,
// headers as wrk sends them to the forum row.
let hookHeaderFields: [(name: String, value: String)] = [
    ("Host", "127.0.0.1:8080"), ("X-Session-Key", "bench-session-key-0001"), ("User-Agent", "wrk/4.1.0"),
    ("Accept", "*/*"), ("X-Forwarded-For", "127.0.0.1"),
]
var hookRequest = MiniRequest(url: "/forum/bench/", method: "GET", requestURI: "/forum/bench/")
hookRequest.attributes = RequestAttributes(remoteAddress: "127.0.0.1", host: "127.0.0.1:8080", apiID: "forum-api",
                                           apiName: "forum", listenPath: "/forum/")
measure("hook request JSON: MiniRequest.jsonText(headerFields:), 5 headers", count: 50_000) {
    _ = hookRequest.jsonText(headerFields: hookHeaderFields)
}

// MARK: Session layer per store

func sessionBench(_ name: String, store: any SessionStore) async throws {
    let manager = SessionManager(store: store, configuration: SessionManagerConfiguration(), logger: quiet)
    try await manager.start()
    let state = try SessionState(jsonText: sessionText)
    _ = try await manager.addOrUpdate(key: "bench-key", session: state, suppressReset: true)
    try await measure("sessions (\(name)): TykGetKeyData read (store)", count: 5_000) {
        _ = try await manager.keyDataJSON(key: "bench-key")
    }
    try await measure("sessions (\(name)): auth lookup (cache hit)", count: 20_000) {
        _ = try await manager.sessionForAuth(key: "bench-key")
    }
    try await measure("sessions (\(name)): plugin write, acknowledged", count: 2_000) {
        _ = try await manager.writeFromPlugin(key: "bench-key", json: sessionText, suppressReset: true)
    }
    await manager.stop()
}

try await sessionBench("memory", store: MemoryStore())
if LocalRedisServer.isAvailable {
    let redis = try LocalRedisServer()
    let store = RedisStore(configuration: RedisConfiguration(port: redis.port, poolSize: 2), logger: quiet)
    try await sessionBench("redis", store: store)
    try await store.setValue("v", forKey: "plain", ttlSeconds: 0)
    try await measure("RESP: GET, 1 in flight", count: 5_000) {
        _ = try await store.value(forKey: "plain")
    }
    try await throughput("RESP: GET, 64 in flight (pipelined on 2 connections)", count: 64_000, callers: 64) {
        _ = try await store.value(forKey: "plain")
    }
    await store.shutdown()
    redis.kill()
} else {
    print("redis-server not installed: Redis rows skipped")
}

try await transport.shutdown()
await upstream.stop()
engine.shutdown()
