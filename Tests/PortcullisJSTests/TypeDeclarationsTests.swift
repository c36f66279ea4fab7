import Foundation
import PortcullisCore
@testable import PortcullisJS
import Testing

/// `plugins/tyk.d.ts` is what editors type-check plugins against. With no
/// TypeScript compiler here, this suite checks it against the running
/// engine instead: every global binding and prelude method, and every field
/// of the objects handlers receive, is declared, and nothing declared is
/// missing at run time.
@Suite("tyk.d.ts matches the runtime")
struct TypeDeclarationsTests {
    /// The declarations file, parsed into `declare` names and interface members.
    struct Declarations {
        var globals: Set<String> = []
        var interfaces: [String: Set<String>] = [:]

        init(_ text: String) {
            var current: String?
            for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.hasPrefix("//") || line.hasPrefix("/**") || line.hasPrefix("*") { continue }
                if let name = Self.match(line, #"^declare (?:function|const|var) ([A-Za-z_$][\w$]*)"#) { globals.insert(name) }
                if let name = Self.match(line, #"^interface ([A-Za-z_]\w*) \{"#) {
                    current = name
                    interfaces[name] = []
                    continue
                }
                if line == "}" { current = nil; continue }
                if let current, let member = Self.match(line, #"^([A-Za-z_]\w*)\??[:(]"#) { interfaces[current, default: []].insert(member) }
            }
        }

        static func match(_ line: String, _ pattern: String) -> String? {
            guard let regex = try? NSRegularExpression(pattern: pattern),
                  let found = regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)),
                  let range = Range(found.range(at: 1), in: line) else { return nil }
            return String(line[range])
        }
    }

    static func declarations() throws -> Declarations {
        Declarations(try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("plugins/tyk.d.ts"), encoding: .utf8))
    }

    static let probe = """
    function keysOf(o) { return Object.keys(o).sort().join(","); }
    function protoOf(f) { return Object.getOwnPropertyNames(f.prototype).filter(function (n) { return n !== "constructor"; }).sort().join(","); }
    var reqProbe = new TykJS.TykMiddleware.NewMiddleware({});
    reqProbe.NewProcessRequest(function (request, session, config) {
        request.SetHeaders["request"] = keysOf(request);
        request.SetHeaders["overrides"] = keysOf(request.ReturnOverrides);
        request.SetHeaders["spec"] = keysOf(config);
        request.SetHeaders["session"] = keysOf(session);
        return reqProbe.ReturnData(request, {});
    });
    var resProbe = new TykJS.TykMiddleware.NewMiddleware({});
    resProbe.NewProcessResponse(function (response, request, session, config) {
        response.SetHeaders["response"] = keysOf(response);
        return resProbe.ReturnResponseData(response, {});
    });
    function virtualProbe(request, session, config) {
        return TykJsResponse({Body: keysOf(request), Headers: {}, Code: 200}, {});
    }
    """

    static func names(_ text: String?) -> Set<String> {
        Set((text ?? "").split(separator: ",").map(String.init).filter { !$0.isEmpty })
    }

    @Test("Every global binding and prelude object is declared, and every declared global exists")
    func globals() async throws {
        let declared = try Self.declarations()
        let engine = try await Fixtures.engine(["probe.js": Self.probe])
        defer { engine.shutdown() }
        let listed = try await engine.evaluate("""
            Object.getOwnPropertyNames(this).filter(function (n) {
                return /^(Tyk|log$|rawlog$|b64|rawb64|console$|fetch$)/.test(n);
            }).sort().join(",")
            """, realm: "test-api")
        let runtime = Self.names(try JSONValue(parsing: listed).stringValue)
        #expect(runtime.count >= 15)
        #expect(runtime.subtracting(declared.globals).isEmpty, "not declared: \(runtime.subtracting(declared.globals).sorted())")
        #expect(declared.globals.subtracting(runtime).isEmpty, "declared but missing: \(declared.globals.subtracting(runtime).sorted())")

        let middleware = Self.names(try JSONValue(parsing: try await engine.evaluate(
            "protoOf(TykJS.TykMiddleware.NewMiddleware) + ',' + protoOf(TykJS.TykMiddleware.MiddlewareComponentMeta)",
            realm: "test-api")).stringValue)
        #expect(middleware == declared.interfaces["TykMiddleware"], "runtime \(middleware.sorted()) vs declared \(declared.interfaces["TykMiddleware"]?.sorted() ?? [])")
        let events = Self.names(try JSONValue(parsing: try await engine.evaluate(
            "protoOf(TykJS.TykEventHandlers.NewEventHandler) + ',Handle'", realm: "test-api")).stringValue)
        #expect(events == declared.interfaces["TykEventHandler"])
        let console = Self.names(try JSONValue(parsing: try await engine.evaluate("keysOf(console)", realm: "test-api")).stringValue)
        #expect(console == ["log", "info", "warn", "error"])
    }

    @Test("The request, overrides, spec, session, response and virtual request objects match their interfaces")
    func objectShapes() async throws {
        let declared = try Self.declarations()
        let engine = try await Fixtures.engine(["probe.js": Self.probe])
        defer { engine.shutdown() }
        let session = """
        {"expires": 1, "quota_max": -1, "quota_remaining": 0, "quota_renewal_rate": 60, "quota_renews": 0, "rate": 0, "per": 0,
         "allowance": 0, "access_rights": {}, "meta_data": {}, "alias": "a", "is_inactive": false, "org_id": "o",
         "session_lifetime": 0, "tags": [], "last_updated": "0"}
        """
        let request = MiniRequest(headers: ["Accept": ["*/*"]], url: "/x?a=1", method: "GET")
        let outcome = try await engine.runMiddleware(realm: "test-api", handler: "reqProbe", request: request, sessionJSON: session,
                                                     spec: Fixtures.spec, host: nil)
        let headers = outcome.request.setHeaders
        #expect(Self.names(headers["request"]) == declared.interfaces["TykRequest"],
                "runtime \(Self.names(headers["request"]).sorted()) vs declared \(declared.interfaces["TykRequest"]?.sorted() ?? [])")
        #expect(Self.names(headers["overrides"]) == declared.interfaces["TykReturnOverrides"])
        #expect(Self.names(headers["spec"]) == declared.interfaces["TykSpec"])
        let sessionFields = Self.names(headers["session"])
        let declaredSession = declared.interfaces["TykSession"] ?? []
        #expect(declaredSession.subtracting(sessionFields).isEmpty, "declared session fields not seen: \(declaredSession.subtracting(sessionFields).sorted())")

        let response = try await engine.runResponseMiddleware(realm: "test-api", handler: "resProbe",
                                                               response: MiniResponse(statusCode: 200, body: "b"),
                                                               request: request, spec: Fixtures.spec, host: nil)
        #expect(Self.names(response.response.setHeaders["response"]) == declared.interfaces["TykResponse"])

        let virtual = try await engine.runVirtualEndpoint(realm: "test-api", handler: "virtualProbe",
                                                          request: VirtualEndpointRequest(url: "/v"), spec: Fixtures.spec, host: nil)
        #expect(Self.names(virtual.body) == declared.interfaces["TykVirtualRequest"])
    }
}
