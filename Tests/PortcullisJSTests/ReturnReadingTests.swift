import PortcullisCore
import Testing
@testable import PortcullisJS

/// The engine reads a handler's result from the JS object itself; these
/// cases need JSON's own rules, and must come out as Tyk's JSON route has them.
@Suite("Reading handler results")
struct ReturnReadingTests {
    private func run(_ body: String) async throws -> MiddlewareOutcome {
        let engine = try await Fixtures.engine(["mw.js": Fixtures.middleware(body)])
        defer { engine.shutdown() }
        return try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(url: "/a"),
                                              spec: Fixtures.spec, host: nil)
    }

    @Test("A Date body is written through its toJSON, as JSON.stringify writes it")
    func dateBody() async throws {
        let outcome = try await run("request.Body = new Date(0); return mw.ReturnData(request, {});")
        #expect(outcome.request.body == "1970-01-01T00:00:00.000Z")
    }

    @Test("Functions and undefined in a header map are dropped; null is skipped")
    func droppedValues() async throws {
        let outcome = try await run("""
            request.SetHeaders = {"X-A": "1", "X-F": function () {}, "X-U": undefined, "X-N": null};
            request.DeleteHeaders = ["X-Old"];
            return mw.ReturnData(request, {"k": "v", "gone": undefined});
            """)
        #expect(outcome.request.setHeaders == ["X-A": "1"])
        #expect(outcome.request.deleteHeaders == ["X-Old"])
        #expect(outcome.sessionMeta == ["k": "v"])
    }

    @Test("A String object is a string; a status with a fraction or as text is refused with its field path")
    func strictTypes() async throws {
        let boxed = try await run("request.URL = new String('/b'); return mw.ReturnData(request, {});")
        #expect(boxed.request.url == "/b")
        for (value, path) in [("404.5", "Request.ReturnOverrides.ResponseCode"), ("'404'", "Request.ReturnOverrides.ResponseCode")] {
            await #expect {
                _ = try await run("request.ReturnOverrides.ResponseCode = \(value); return mw.ReturnData(request, {});")
            } throws: { error in
                guard case PluginError.invalidReturn(_, let reason) = error else { return false }
                return reason.contains(path)
            }
        }
        let whole = try await run("request.ReturnOverrides.ResponseCode = 4.03e2; request.ReturnOverrides.OverrideError = true; return mw.ReturnData(request, {});")
        #expect(whole.request.returnOverrides.responseCode == 403)
        #expect(whole.request.returnOverrides.overrideError)
        let notANumber = try await run("request.ReturnOverrides.ResponseCode = NaN; return mw.ReturnData(request, {});")
        #expect(notANumber.request.returnOverrides.responseCode == 0)
    }

    @Test("An array where a list belongs holds only strings; a hole is refused")
    func lists() async throws {
        await #expect {
            _ = try await run("request.DeleteParams = ['a', , 'c']; return mw.ReturnData(request, {});")
        } throws: { error in
            guard case PluginError.invalidReturn(_, let reason) = error else { return false }
            return reason.contains("Request.DeleteParams[1]")
        }
        let ok = try await run("request.ExtendedParams = {'x': ['1', '2']}; return mw.ReturnData(request, {});")
        #expect(ok.request.extendedParams == ["x": ["1", "2"]])
    }

    @Test("A middleware with its own DoProcessRequest returning JSON text still works")
    func ownDoProcessRequest() async throws {
        let engine = try await Fixtures.engine(["mw.js": """
            var mw = new TykJS.TykMiddleware.NewMiddleware({});
            mw.DoProcessRequest = function (request, session, config) {
                request.SetHeaders["X-Own"] = "yes";
                return JSON.stringify({Request: request, SessionMeta: {}});
            };
            """])
        defer { engine.shutdown() }
        let outcome = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(),
                                                     spec: Fixtures.spec, host: nil)
        #expect(outcome.request.setHeaders == ["X-Own": "yes"])
    }
}

@Suite("Globals between calls")
struct CallGlobalsTests {
    @Test("A global a handler assigns is gone for the next call, as on Tyk's per-call VM copy; a top-level var keeps its value")
    func implicitGlobals() async throws {
        let engine = try await Fixtures.engine(["mw.js": """
            var calls = 0;
            var mw = new TykJS.TykMiddleware.NewMiddleware({});
            mw.NewProcessRequest(function (request, session, config) {
                calls += 1;
                request.SetHeaders["X-Seen"] = typeof stash === "undefined" ? "none" : stash;
                if (request.Headers["X-User"]) { stash = request.Headers["X-User"][0]; }
                request.SetHeaders["X-Calls"] = String(calls);
                return mw.ReturnData(request, {});
            });
            """], workers: 1)
        defer { engine.shutdown() }
        let first = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(headers: ["X-User": ["ada"]]),
                                                   spec: Fixtures.spec, host: nil)
        #expect(first.request.setHeaders["X-Seen"] == "none")
        let second = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(),
                                                    spec: Fixtures.spec, host: nil)
        #expect(second.request.setHeaders["X-Seen"] == "none", "ada's value must not reach the next client")
        #expect(second.request.setHeaders["X-Calls"] == "2")
    }

    @Test("Top-level declarations are ordinary enumerable globals, as in otto; the gateway's bindings are globals a listing does not show")
    func topLevelNamesEnumerable() async throws {
        let engine = try await Fixtures.engine(["mw.js": Fixtures.middleware("""
            var seen = [];
            for (var name in globalThis) { if (name === "mw") { seen.push("for-in"); } }
            if (Object.keys(globalThis).indexOf("mw") >= 0) { seen.push("keys"); }
            if (Object.getOwnPropertyNames(globalThis).indexOf("mw") >= 0) { seen.push("names"); }
            var gateway = ["TykGetKeyData", "TykSetKeyData", "log", "b64enc", "TykJS", "TykJsResponse", "console", "fetch", "_"];
            var listed = Object.keys(globalThis).concat(Object.keys(Object.getOwnPropertyDescriptors(globalThis)).filter(function (n) {
              return Object.getOwnPropertyDescriptor(globalThis, n).enumerable;
            }));
            for (var shown in globalThis) { listed.push(shown); }
            var shownGateway = gateway.filter(function (n) { return listed.indexOf(n) >= 0; });
            if (shownGateway.length > 0) { seen.push("listed: " + shownGateway.join(" ")); }
            var missing = gateway.filter(function (n) {
              return !(n in globalThis) || !globalThis.hasOwnProperty(n) || typeof globalThis[n] === "undefined" ||
                Object.getOwnPropertyNames(globalThis).indexOf(n) < 0;
            });
            if (missing.length > 0) { seen.push("missing: " + missing.join(" ")); }
            var internal = Object.keys(globalThis).filter(function (n) { return n.indexOf("__portcullis") === 0; });
            if (internal.length > 0) { seen.push("internal: " + internal.join(" ")); }
            var tag = Object.prototype.toString.call(globalThis);
            if (tag !== "[object Object]") { seen.push(tag); }
            request.SetHeaders["X-Seen"] = seen.join(",");
            return mw.ReturnData(request, {});
            """)], workers: 1)
        defer { engine.shutdown() }
        let outcome = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(), spec: Fixtures.spec, host: nil)
        #expect(outcome.request.setHeaders["X-Seen"] == "for-in,keys,names")
    }

    @Test("Every way a handler can make a global is undone after the call", arguments: [
        "leaked = 'x';",
        "(function () { this.leaked = 'x'; })();",
        "globalThis.leaked = 'x';",
        "var g = globalThis; g['lea' + 'ked'] = 'x';",
        "Object.defineProperty(globalThis, 'leaked', {value: 'x', enumerable: true, configurable: true, writable: true});",
        "Reflect.set(globalThis, 'leaked', 'x');",
        "Object.assign(globalThis, {leaked: 'x'});",
        "(0, eval)('var leaked = \\'x\\';');",
        "(0, eval)('function leaked() { return 1; }');",
        "new Function('leaked = 1;')();",
        "(function () { leaked = 'x'; })();",
        "calls = calls; leaked = 'x';",
    ])
    func everyWayOfMakingAGlobal(statement: String) async throws {
        let engine = try await Fixtures.engine(["mw.js": """
            var calls = 0;
            var mw = new TykJS.TykMiddleware.NewMiddleware({});
            mw.NewProcessRequest(function (request, session, config) {
                calls += 1;
                request.SetHeaders["X-Before"] = typeof leaked;
                if (request.Headers["X-Leak"]) { \(statement) }
                request.SetHeaders["X-After"] = typeof leaked;
                return mw.ReturnData(request, {});
            });
            """], workers: 1)
        defer { engine.shutdown() }
        let leaking = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(headers: ["X-Leak": ["1"]]),
                                                     spec: Fixtures.spec, host: nil)
        #expect(leaking.request.setHeaders["X-Before"] == "undefined")
        #expect(leaking.request.setHeaders["X-After"] != "undefined", "the statement should make a global during the call")
        // Several quiet calls in a row: none may see it.
        for _ in 0..<3 {
            let next = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(), spec: Fixtures.spec, host: nil)
            #expect(next.request.setHeaders["X-Before"] == "undefined", "'\(statement)' leaked into a later call")
        }
    }
}

@Suite("Results of handlers that change nothing")
struct UnchangedResultTests {
    private func run(_ body: String, request: MiniRequest = MiniRequest(url: "/a?x=1", params: ["x": ["1"]])) async throws -> MiddlewareOutcome {
        let engine = try await Fixtures.engine(["mw.js": Fixtures.middleware(body)])
        defer { engine.shutdown() }
        return try await engine.runMiddleware(realm: "test-api", handler: "mw", request: request, spec: Fixtures.spec, host: nil)
    }

    @Test("An untouched request comes back as given, headers reset, with SessionMeta {} or none as returned")
    func untouched() async throws {
        let given = MiniRequest(headers: ["X-A": ["1"]], body: "payload", url: "/a?x=1", params: ["x": ["1"]])
        let empty = try await run("return mw.ReturnData(request, {});", request: given)
        #expect(empty.request.body == "payload")
        #expect(empty.request.url == "/a?x=1")
        #expect(empty.request.headers.isEmpty)
        #expect(empty.sessionMeta == [:])
        let none = try await run("return mw.ReturnData(request, null);", request: given)
        #expect(none.sessionMeta == nil)
    }

    @Test("A change anywhere is read: a header set and removed again is empty, a wrong Params type is refused as Tyk's decoding refuses it")
    func changes() async throws {
        let meta = try await run("return mw.ReturnData(request, {'k': 'v'});")
        #expect(meta.sessionMeta == ["k": "v"])
        let cleared = try await run("request.SetHeaders['X'] = '1'; delete request.SetHeaders['X']; request.Body = 'new'; return mw.ReturnData(request, {});")
        #expect(cleared.request.body == "new")
        #expect(cleared.request.setHeaders.isEmpty)
        await #expect {
            _ = try await run("request.Params['x'] = 'not a list'; return mw.ReturnData(request, {});")
        } throws: { error in
            guard case PluginError.invalidReturn(_, let reason) = error else { return false }
            return reason.contains("Request.Params.x")
        }
    }
}

@Suite("Globals made by handlers the prelude does not count for")
struct ListedGlobalsTests {
    /// The prelude counts globals only after a synchronous call through its
    /// own `DoProcessRequest` that did not throw; these handlers take the
    /// engine's own listing instead, and must be cleaned up as well.
    @Test("A global made by a handler that awaits, throws, or replaces DoProcessRequest is undone after the call", arguments: [
        ("awaits", """
            mw.NewProcessRequest(function (request, session, config) {
                request.SetHeaders["X-Before"] = typeof leaked;
                if (request.Headers["X-Leak"]) { leaked = 'x'; }
                return Promise.resolve().then(function () { return mw.ReturnData(request, {}); });
            });
            """),
        ("throws", """
            mw.NewProcessRequest(function (request, session, config) {
                request.SetHeaders["X-Before"] = typeof leaked;
                if (request.Headers["X-Leak"]) { leaked = 'x'; throw new Error('after leaking'); }
                return mw.ReturnData(request, {});
            });
            """),
        ("own DoProcessRequest", """
            mw.DoProcessRequest = function (request, session, config) {
                request.SetHeaders["X-Before"] = typeof leaked;
                if (request.Headers["X-Leak"]) { leaked = 'x'; }
                return JSON.stringify(mw.ReturnData(request, {}));
            };
            """),
    ])
    func listedByTheEngine(kind: String, handler: String) async throws {
        let engine = try await Fixtures.engine(["mw.js": "var mw = new TykJS.TykMiddleware.NewMiddleware({});\n" + handler],
                                               workers: 1)
        defer { engine.shutdown() }
        _ = try? await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(headers: ["X-Leak": ["1"]]),
                                            spec: Fixtures.spec, host: nil)
        for _ in 0..<2 {
            let next = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(), spec: Fixtures.spec, host: nil)
            #expect(next.request.setHeaders["X-Before"] == "undefined", "a handler that \(kind) leaked a global into a later call")
        }
    }
}

@Suite("Handlers without the prelude's DoProcessRequest")
struct OwnMethodTests {
    @Test("A handler with no DoProcessRequest is refused by name; one whose own method answers a number is not taken for an unchanged request")
    func missingOrOwn() async throws {
        let engine = try await Fixtures.engine(["mw.js": """
            var bare = {};
            var numeric = new TykJS.TykMiddleware.NewMiddleware({});
            numeric.DoProcessRequest = function (request, session, config) { return 0; };
            var replaced = new TykJS.TykMiddleware.NewMiddleware({});
            replaced.DoProcessRequest = function (request, session, config) {
                request.SetHeaders["X-Own"] = String(this === replaced);
                return JSON.stringify({ Request: request, SessionMeta: {} });
            };
            """], workers: 1)
        defer { engine.shutdown() }
        await #expect {
            _ = try await engine.runMiddleware(realm: "test-api", handler: "bare", request: MiniRequest(), spec: Fixtures.spec, host: nil)
        } throws: { error in
            guard case PluginError.invalidReturn(let handler, let reason) = error else { return false }
            return handler == "bare" && reason.contains("'bare' has no DoProcessRequest method")
        }
        await #expect {
            _ = try await engine.runMiddleware(realm: "test-api", handler: "numeric", request: MiniRequest(), spec: Fixtures.spec, host: nil)
        } throws: { error in
            guard case PluginError.invalidReturn(_, let reason) = error else { return false }
            return reason.contains("expected a JSON string")
        }
        let own = try await engine.runMiddleware(realm: "test-api", handler: "replaced", request: MiniRequest(), spec: Fixtures.spec, host: nil)
        #expect(own.request.setHeaders["X-Own"] == "true", "the handler's own method runs with the handler as this")
    }
}

@Suite("The spec object each call gets")
struct SpecObjectTests {
    @Test("Each call gets its own spec object, equal to the spec's JSON: changes a call makes are gone for the next, arrays and a __proto__ key included")
    func freshPerCall() async throws {
        let engine = try await Fixtures.engine(["mw.js": Fixtures.middleware("""
            var data = config.config_data;
            request.SetHeaders["X-Seen"] = JSON.stringify(config);
            request.SetHeaders["X-Own-Proto"] = String(Object.prototype.hasOwnProperty.call(data, "__proto__"));
            request.SetHeaders["X-Proto-Kept"] = String(Object.getPrototypeOf(data) === Object.prototype);
            if (data.list) { data.list.push("added"); }
            if (data.nested) { data.nested.n = 2; }
            config.APIID = "changed";
            delete config.OrgID;
            return mw.ReturnData(request, {});
            """)], workers: 1)
        defer { engine.shutdown() }
        let spec = PluginSpec(apiID: "api-1", orgID: "org-1",
                              configData: .object(["list": .array([.string("a")]), "nested": .object(["n": .int(1)]),
                                                   "__proto__": .string("p")]))
        let expected = spec.jsonText()
        for call in 1...3 {
            let outcome = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(), spec: spec, host: nil)
            #expect(outcome.request.setHeaders["X-Seen"] == expected, "call \(call) saw an earlier call's changes")
            #expect(outcome.request.setHeaders["X-Own-Proto"] == "true")
            #expect(outcome.request.setHeaders["X-Proto-Kept"] == "true")
        }
        let other = PluginSpec(apiID: "api-2", configData: .object(["k": .string("v")]))
        let switched = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(), spec: other, host: nil)
        #expect(switched.request.setHeaders["X-Seen"] == other.jsonText(), "a different spec text is parsed anew")
    }
}
