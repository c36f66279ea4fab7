import Foundation
import PortcullisCore
import PortcullisGateway
import Testing
@testable import PortcullisJS

@Suite("Global bindings")
struct BindingTests {
    private func run(_ body: String, host: (any PluginHost)? = nil, request: MiniRequest = MiniRequest(),
                     clock: any GatewayClock = SystemClock()) async throws -> MiddlewareOutcome {
        let engine = try await Fixtures.engine(["mw.js": Fixtures.middleware(body)], clock: clock)
        defer { engine.shutdown() }
        return try await engine.runMiddleware(realm: "test-api", handler: "mw", request: request, spec: Fixtures.spec,
                                              host: host ?? LocalPluginHost())
    }

    @Test("log and rawlog lines are captured with their kind; console.log goes to log")
    func logging() async throws {
        let outcome = try await run("""
            log("foo"); rawlog("raw text"); console.log("a", 1);
            return mw.ReturnData(request, {});
            """)
        #expect(outcome.logs == [PluginLogLine(kind: .log, message: "foo"), PluginLogLine(kind: .raw, message: "raw text"),
                                 PluginLogLine(kind: .log, message: "a 1")])
    }

    @Test("log.debug/info/warn/error and console.info/warn/error log at their level (extension)")
    func levelledLogging() async throws {
        let outcome = try await run("""
            log.debug("d", 1); log.info("i"); log.warn("w"); log.error("e", {a: 1});
            console.info("ci"); console.warn("cw"); console.error("ce");
            return mw.ReturnData(request, {});
            """)
        #expect(outcome.logs == [
            PluginLogLine(kind: .debug, message: "d 1"), PluginLogLine(kind: .info, message: "i"),
            PluginLogLine(kind: .warn, message: "w"), PluginLogLine(kind: .error, message: "e [object Object]"),
            PluginLogLine(kind: .info, message: "ci"), PluginLogLine(kind: .warn, message: "cw"),
            PluginLogLine(kind: .error, message: "ce"),
        ])
    }

    @Test("b64enc/b64dec/rawb64enc/rawb64dec follow Tyk, including an unpadded JWT part and invalid input")
    func base64() async throws {
        let outcome = try await run("""
            var h = request.SetHeaders;
            h["enc"] = b64enc("teststring");
            h["dec"] = b64dec("dGVzdHN0cmluZw==");
            h["rawenc"] = rawb64enc("teststring");
            h["rawdec"] = rawb64dec("dGVzdHN0cmluZw");
            h["jwt"] = b64dec("eyJzdWIiOiIxMjM0NTY3ODkwIn0");
            h["bad"] = String(b64dec("!!!not base64"));
            h["rawpadded"] = String(rawb64dec("dGVzdHN0cmluZw=="));
            h["utf8"] = b64dec(b64enc("héllo ✓"));
            return mw.ReturnData(request, {});
            """)
        let headers = outcome.request.setHeaders
        #expect(headers["enc"] == "dGVzdHN0cmluZw==")
        #expect(headers["dec"] == "teststring")
        #expect(headers["rawenc"] == "dGVzdHN0cmluZw")
        #expect(headers["rawdec"] == "teststring")
        #expect(headers["jwt"] == #"{"sub":"1234567890"}"#)
        #expect(headers["bad"] == "undefined")
        #expect(headers["rawpadded"] == "undefined")
        #expect(headers["utf8"] == "héllo ✓")
        #expect(outcome.logs.contains { $0.kind == .warning && $0.message.contains("b64dec") })
    }

    @Test("TykGetKeyData returns the stored session, or Tyk's error object for a missing key")
    func getKeyData() async throws {
        let host = LocalPluginHost(sessions: ["k1": .object(["expires": .int(5), "meta_data": .object([:])])])
        let outcome = try await run("""
            var found = JSON.parse(TykGetKeyData("k1", "api-1"));
            var missing = JSON.parse(TykGetKeyData("nope", "api-1"));
            request.SetHeaders["found"] = String(found.expires);
            request.SetHeaders["missing"] = missing.status + ":" + missing.message;
            return mw.ReturnData(request, {});
            """, host: host)
        #expect(outcome.request.setHeaders["found"] == "5")
        #expect(outcome.request.setHeaders["missing"] == "error:Key not found")
    }

    @Test("TykGetKeyData gives each read the session stored now, when reads of one key repeat, alternate with other keys or follow a write")
    func repeatedReads() async throws {
        let host = LocalPluginHost(sessions: ["k1": .object(["expires": .int(1)]), "k2": .object(["expires": .int(2)])])
        let engine = try await Fixtures.engine(["mw.js": Fixtures.middleware("""
            var seen = [];
            ["k1", "k1", "k2", "k1"].forEach(function (key) { seen.push(JSON.parse(TykGetKeyData(key, "")).expires); });
            TykSetKeyData("k1", JSON.stringify({"expires": 3, "access_rights": {}}), "1");
            seen.push(JSON.parse(TykGetKeyData("k1", "")).expires);
            request.SetHeaders["seen"] = seen.join(",");
            return mw.ReturnData(request, {});
            """)])
        defer { engine.shutdown() }
        let first = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(), spec: Fixtures.spec, host: host)
        #expect(first.request.setHeaders["seen"] == "1,1,2,1,3")
        // The next call, in the same realm, starts from what is stored now.
        let second = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(), spec: Fixtures.spec, host: host)
        #expect(second.request.setHeaders["seen"] == "3,3,2,3,3")
    }

    @Test("TykSetKeyData stores before returning, so TykGetKeyData in the same call sees it")
    func setThenGet() async throws {
        let host = LocalPluginHost()
        let outcome = try await run("""
            var r = TykSetKeyData("k2", JSON.stringify({"expires": 1700000060, "access_rights": {}}), "1");
            request.SetHeaders["ret"] = String(r);
            request.SetHeaders["after"] = String(JSON.parse(TykGetKeyData("k2", "")).expires);
            return mw.ReturnData(request, {});
            """, host: host)
        #expect(outcome.request.setHeaders == ["ret": "undefined", "after": "1700000060"])
        #expect(host.writes.count == 1)
        #expect(host.writes.first?.suppressReset == true)
        #expect(host.session(for: "k2")?.objectValue?["expires"] == .int(1_700_000_060))
    }

    @Test("TykSetKeyData refuses bad input with a catchable exception and writes nothing",
          arguments: [
            (#"TykSetKeyData("k", "{not json")"#, "not valid JSON"),
            (#"TykSetKeyData("k", {"expires": 1})"#, "JSON.stringify"),
            (#"TykSetKeyData("k", "[1,2]")"#, "must be a JSON object"),
            (#"TykSetKeyData("k", JSON.stringify({"expires": Math.floor(Date.now() / 1000) + 0.5}))"#, "must be an integer"),
          ])
    func setKeyDataErrors(call: String, expected: String) async throws {
        let host = LocalPluginHost()
        let outcome = try await run("""
            try { \(call); request.SetHeaders["err"] = "none"; }
            catch (e) { request.SetHeaders["err"] = String(e.message); }
            return mw.ReturnData(request, {});
            """, host: host)
        #expect(outcome.request.setHeaders["err"]?.contains(expected) == true, "got \(outcome.request.setHeaders)")
        #expect(host.writes.isEmpty)
    }

    @Test("An uncaught binding exception fails the call with the plugin's file and line")
    func uncaughtBindingError() async throws {
        await #expect {
            _ = try await run("""
                TykSetKeyData("k", "{broken");
                return mw.ReturnData(request, {});
                """)
        } throws: { error in
            guard case PluginError.exception(_, let location, let message) = error else { return false }
            return location == SourceLocation(file: "mw.js", line: 3) && message.contains("not valid JSON")
        }
    }

    @Test("TykStorage* get/set/setnx/del/ttl/incr semantics, size caps throw")
    func storage() async throws {
        let clock = VirtualClock()
        let outcome = try await run("""
            var h = request.SetHeaders;
            h["missing"] = String(TykStorageGet("a"));
            TykStorageSet("a", "1", 10);
            h["get"] = TykStorageGet("a");
            h["ttl"] = String(TykStorageTTL("a"));
            h["nx1"] = String(TykStorageSetNX("n", "x", 0));
            h["nx2"] = String(TykStorageSetNX("n", "y", 0));
            h["ttlNone"] = String(TykStorageTTL("n"));
            h["ttlMissing"] = String(TykStorageTTL("zzz"));
            h["incr"] = TykStorageIncr("c", 0) + "," + TykStorageIncr("c", 0);
            h["incrType"] = typeof TykStorageIncr("c", 0);
            h["del"] = String(TykStorageDel("a")) + String(TykStorageDel("a"));
            try { TykStorageSet("", "v", 0); h["emptyKey"] = "no error"; } catch (e) { h["emptyKey"] = e.name; }
            try { TykStorageSet("big", new Array(70000).join("x"), 0); h["bigValue"] = "no error"; } catch (e) { h["bigValue"] = e.name; }
            try { TykStorageIncr("n", 0); h["incrText"] = "no error"; } catch (e) { h["incrText"] = "threw"; }
            return mw.ReturnData(request, {});
            """, clock: clock)
        let h = outcome.request.setHeaders
        #expect(h["missing"] == "null")
        #expect(h["get"] == "1")
        #expect(h["ttl"] == "10")
        #expect(h["nx1"] == "true")
        #expect(h["nx2"] == "false")
        #expect(h["ttlNone"] == "-1")
        #expect(h["ttlMissing"] == "-2")
        #expect(h["incr"] == "1,2")
        #expect(h["incrType"] == "string")
        #expect(h["del"] == "10")
        #expect(h["emptyKey"] == "RangeError")
        #expect(h["bigValue"] == "RangeError")
        #expect(h["incrText"] == "threw")
    }

    @Test("Bindings used at load time (no request) throw a clear error instead of crashing")
    func bindingAtLoad() async throws {
        let engine = JSEngine(configuration: JSEngineConfiguration(workerCount: 1))
        defer { engine.shutdown() }
        await #expect {
            try await engine.loadRealm("r", scripts: [PluginScript(path: "top.js", source: "TykGetKeyData('k', '');")])
        } throws: { error in
            guard case PluginError.loadFailed(let location, let message) = error else { return false }
            return location.file == "top.js" && message.contains("while plugin files load")
        }
    }
}
