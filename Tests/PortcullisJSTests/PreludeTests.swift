import PortcullisCore
import Testing
@testable import PortcullisJS

@Suite("Tyk prelude")
struct PreludeTests {
    @Test("NewMiddleware + NewProcessRequest + ReturnData pass request, session and spec through")
    func returnData() async throws {
        let engine = try await Fixtures.engine(["mw.js": Fixtures.middleware("""
            request.SetHeaders["X-Session"] = String(session.tag);
            request.SetHeaders["X-Api"] = config.APIID + "/" + config.OrgID + "/" + config.config_data.foo;
            return mw.ReturnData(request, {"seen": "yes"});
            """)])
        defer { engine.shutdown() }
        let outcome = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(),
                                                     sessionJSON: #"{"tag": "t1"}"#, spec: Fixtures.spec, host: nil)
        #expect(outcome.request.setHeaders == ["X-Session": "t1", "X-Api": "api-1/org-1/bar"])
        #expect(outcome.sessionMeta == ["seen": "yes"])
        #expect(outcome.session == nil)
    }

    @Test("ReturnAuthData returns the session and an AuthValue")
    func returnAuthData() async throws {
        let engine = try await Fixtures.engine(["auth.js": Fixtures.middleware("""
            var result = mw.ReturnAuthData(request, {"expires": 0, "meta_data": {"user": "ada"}});
            result.AuthValue = "token-1";
            return result;
            """)])
        defer { engine.shutdown() }
        let outcome = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(),
                                                     spec: Fixtures.spec, host: nil)
        #expect(outcome.session == .object(["expires": .int(0), "meta_data": .object(["user": .string("ada")])]))
        #expect(outcome.authValue == "token-1")
        #expect(outcome.sessionMeta == nil)
    }

    @Test("Headers edited in JS are discarded, as in Tyk; only SetHeaders counts")
    func headersReset() async throws {
        let engine = try await Fixtures.engine(["mw.js": Fixtures.middleware("""
            request.Headers["X-Ignored"] = ["1"];
            return mw.ReturnData(request, {});
            """)])
        defer { engine.shutdown() }
        let outcome = try await engine.runMiddleware(realm: "test-api", handler: "mw",
                                                     request: MiniRequest(headers: ["Authorization": ["k"]]),
                                                     spec: Fixtures.spec, host: nil)
        #expect(outcome.request.headers.isEmpty)
    }

    @Test("An object that never called NewProcessRequest fails with a clear invalid-return error")
    func defaultProcessRequest() async throws {
        let engine = try await Fixtures.engine(["mw.js": "var mw = new TykJS.TykMiddleware.NewMiddleware({});"])
        defer { engine.shutdown() }
        await #expect {
            _ = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(), spec: Fixtures.spec, host: nil)
        } throws: { error in
            guard case PluginError.invalidReturn(let handler, let reason) = error else { return false }
            return handler == "mw" && reason.contains("Request")
        }
    }

    @Test("A handler that returns nothing is an invalid return naming ReturnData")
    func returnsUndefined() async throws {
        let engine = try await Fixtures.engine(["mw.js": Fixtures.middleware("return;")])
        defer { engine.shutdown() }
        await #expect {
            _ = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(), spec: Fixtures.spec, host: nil)
        } throws: { error in
            guard case PluginError.invalidReturn(_, let reason) = error else { return false }
            return reason.contains("undefined") && reason.contains("ReturnData")
        }
    }

    @Test("SessionMeta must be a string map, as Tyk decodes it; the error names the field")
    func sessionMetaTypes() async throws {
        let engine = try await Fixtures.engine(["mw.js": Fixtures.middleware("return mw.ReturnData(request, {\"n\": 1});")])
        defer { engine.shutdown() }
        await #expect {
            _ = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(), spec: Fixtures.spec, host: nil)
        } throws: { error in
            guard case PluginError.invalidReturn(_, let reason) = error else { return false }
            return reason.contains("SessionMeta.n") && reason.contains("string")
        }
    }

    @Test("TykJsResponse answers a virtual endpoint with code, headers, body and meta")
    func virtualEndpoint() async throws {
        let engine = try await Fixtures.engine(["vep.js": """
            function vep(request, session, config) {
              return TykJsResponse({Body: request.Method + " " + request.URL + " " + request.Params["q"][0],
                                    Headers: {"X-A": config.config_data.foo}, Code: 202}, {"nested": {"x": 1}});
            }
            """])
        defer { engine.shutdown() }
        let outcome = try await engine.runVirtualEndpoint(
            realm: "test-api", handler: "vep",
            request: VirtualEndpointRequest(url: "/v?q=1", params: ["q": ["1"]]), spec: Fixtures.spec, host: nil)
        #expect(outcome.code == 202)
        #expect(outcome.headers == ["X-A": "bar"])
        #expect(outcome.body == "undefined /v?q=1 1")
        #expect(outcome.sessionMeta == .object(["nested": .object(["x": .int(1)])]))
    }

    @Test("NewProcessResponse + ReturnResponseData change a response")
    func responseHook() async throws {
        let engine = try await Fixtures.engine(["resp.js": """
            var resp = new TykJS.TykMiddleware.NewMiddleware({});
            resp.NewProcessResponse(function (response, request, session, config) {
              response.StatusCode = 201;
              response.Body = response.Body + " changed";
              response.SetHeaders = {"X-Resp": request.URL};
              response.DeleteHeaders = ["Content-Type"];
              return resp.ReturnResponseData(response, {});
            });
            """])
        defer { engine.shutdown() }
        let outcome = try await engine.runResponseMiddleware(
            realm: "test-api", handler: "resp", response: MiniResponse(statusCode: 200, body: "body"),
            request: MiniRequest(url: "/r"), spec: Fixtures.spec, host: nil)
        #expect(outcome.response.statusCode == 201)
        #expect(outcome.response.body == "body changed")
        #expect(outcome.response.setHeaders == ["X-Resp": "/r"])
        #expect(outcome.response.deleteHeaders == ["Content-Type"])
    }

    @Test("Event handlers and the middleware base constructor exist")
    func eventHandlers() async throws {
        let engine = try await Fixtures.engine(["ev.js": """
            var ev = new TykJS.TykEventHandlers.NewEventHandler({});
            ev.NewHandler(function (event, context) { return event.type + ":" + context.APIID; });
            var base = new TykJS.TykMiddleware.MiddlewareComponentMeta({"a": 1});
            """])
        defer { engine.shutdown() }
        #expect(try await engine.evaluate(#"ev.DoProcessEvent({type: "KeyExpired"}, {APIID: "x"})"#, realm: "test-api") == #""KeyExpired:x""#)
        #expect(try await engine.evaluate("base.configuration.a", realm: "test-api") == "1")
        #expect(try await engine.evaluate("typeof console.log", realm: "test-api") == #""function""#)
    }
}
