import Foundation
import PortcullisCore
import Testing
@testable import PortcullisJS

@Suite("Request object changes")
struct RequestObjectTests {
    @Test("SetHeaders, DeleteHeaders, params, URL and body changes come back")
    func changes() async throws {
        let engine = try await Fixtures.engine(["mw.js": Fixtures.middleware("""
            request.SetHeaders["X-New"] = "v";
            request.DeleteHeaders.push("X-Old");
            request.AddParams["a"] = "1";
            request.ExtendedParams["b"] = ["2", "3"];
            request.DeleteParams.push("c");
            request.URL = request.URL + "/more";
            request.Body = request.Body + " appended";
            return mw.ReturnData(request, {});
            """)])
        defer { engine.shutdown() }
        let input = MiniRequest(headers: ["X-Old": ["x"]], body: "hello world", url: "/api/x?c=9", params: ["c": ["9"]])
        let outcome = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: input, spec: Fixtures.spec, host: nil)
        #expect(outcome.request.setHeaders == ["X-New": "v"])
        #expect(outcome.request.deleteHeaders == ["X-Old"])
        #expect(outcome.request.addParams == ["a": "1"])
        #expect(outcome.request.extendedParams == ["b": ["2", "3"]])
        #expect(outcome.request.deleteParams == ["c"])
        #expect(outcome.request.url == "/api/x?c=9/more")
        #expect(outcome.request.body == "hello world appended")
    }

    @Test("Headers arrive as arrays, so Tyk-style loose comparison with a string works")
    func headerArrays() async throws {
        let engine = try await Fixtures.engine(["mw.js": Fixtures.middleware("""
            request.SetHeaders["X-Match"] = String(request.Headers["Authorization"] == "foobar");
            request.SetHeaders["X-Count"] = String(request.Headers["Authorization"].length);
            return mw.ReturnData(request, {});
            """)])
        defer { engine.shutdown() }
        let outcome = try await engine.runMiddleware(realm: "test-api", handler: "mw",
                                                     request: MiniRequest(headers: ["Authorization": ["foobar"]]),
                                                     spec: Fixtures.spec, host: nil)
        #expect(outcome.request.setHeaders == ["X-Match": "true", "X-Count": "1"])
    }

    @Test("ReturnOverrides come back with code, error, body and headers")
    func returnOverrides() async throws {
        let engine = try await Fixtures.engine(["mw.js": Fixtures.middleware("""
            request.ReturnOverrides.ResponseCode = 401;
            request.ReturnOverrides.ResponseError = "Authentication required";
            request.ReturnOverrides.ResponseHeaders = {"WWW-Authenticate": "Bearer"};
            return mw.ReturnData(request, {});
            """)])
        defer { engine.shutdown() }
        let outcome = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(), spec: Fixtures.spec, host: nil)
        #expect(outcome.request.returnOverrides == ReturnOverrides(responseCode: 401, responseError: "Authentication required",
                                                                  responseHeaders: ["WWW-Authenticate": "Bearer"]))
        #expect(outcome.request.returnOverrides.isSet)
    }

    @Test("A wrongly typed field is refused with its path named")
    func wrongTypes() async throws {
        let engine = try await Fixtures.engine(["mw.js": Fixtures.middleware("""
            request.SetHeaders["X-Num"] = 5;
            return mw.ReturnData(request, {});
            """)])
        defer { engine.shutdown() }
        await #expect {
            _ = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(), spec: Fixtures.spec, host: nil)
        } throws: { error in
            guard case PluginError.invalidReturn(_, let reason) = error else { return false }
            return reason.contains("Request.SetHeaders.X-Num") && reason.contains("string")
        }
    }

    @Test("Method, RequestURI and Scheme are passed in")
    func readOnlyFields() async throws {
        let engine = try await Fixtures.engine(["mw.js": Fixtures.middleware("""
            request.SetHeaders["X-Info"] = [request.Method, request.RequestURI, request.Scheme].join(" ");
            return mw.ReturnData(request, {});
            """)])
        defer { engine.shutdown() }
        let outcome = try await engine.runMiddleware(
            realm: "test-api", handler: "mw", request: MiniRequest(url: "/a?b=1", method: "POST", scheme: "https"),
            spec: Fixtures.spec, host: nil)
        #expect(outcome.request.setHeaders["X-Info"] == "POST /a?b=1 https")
    }

    @Test("Body bytes that are not UTF-8 survive a handler appending to them")
    func binaryBody() {
        let bytes: [UInt8] = [0x68, 0xFF, 0x00, 0xFE, 0x41]
        let (text, encoding) = ByteText.decode(bytes)
        #expect(encoding == .latin1)
        #expect(encoding.encode(text + " appended") == bytes + Array(" appended".utf8))
        let utf8 = Array("h\u{FFFF}\u{0}é".utf8)
        let decoded = ByteText.decode(utf8)
        #expect(decoded.encoding == .utf8)
        #expect(decoded.encoding.encode(decoded.text) == utf8)
    }
}

@Suite("Body bytes through the engine")
struct BodyThroughEngineTests {
    @Test("Non-UTF-8 bytes, NUL and U+FFFF survive b64-free transport and an append")
    func appendKeepsBytes() async throws {
        let engine = try await Fixtures.engine(["mw.js": Fixtures.middleware("""
            request.Body = request.Body + " appended";
            return mw.ReturnData(request, {});
            """)])
        defer { engine.shutdown() }
        for original in [[0xFF, 0x00, 0x41] as [UInt8], Array("\u{0}\u{FFFF}ok".utf8), Array("plain\u{0}ascii".utf8), []] {
            let (text, encoding) = ByteText.decode(original)
            let outcome = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(body: text),
                                                         spec: Fixtures.spec, host: nil)
            #expect(encoding.encode(outcome.request.body) == original + Array(" appended".utf8))
        }
    }
}

@Suite("Request JSON writer")
struct JSONWriterTests {
    @Test("The request object written by hand decodes to the same request, whatever the characters")
    func roundTrip() throws {
        let awkward = "quote \" backslash \\ newline \n tab \t nul \u{0} bell \u{7} emoji 🚪 é \u{2028}"
        let request = MiniRequest(
            headers: ["X-A": [awkward, "2"]], setHeaders: ["K": awkward], deleteHeaders: [awkward], body: awkward,
            url: "/p?q=\(awkward)", params: ["q": [awkward]], addParams: ["a": "1"], extendedParams: ["e": ["x", "y"]],
            deleteParams: ["d"], returnOverrides: ReturnOverrides(responseCode: 401, responseError: awkward,
                                                                  responseHeaders: ["H": awkward], overrideError: true),
            ignoreBody: true, method: "POST", requestURI: "/raw", scheme: "https")
        let decoded = try JSONDecoder().decode(MiniRequest.self, from: Data(request.jsonText().utf8))
        #expect(decoded == request)
        let spec = PluginSpec(apiID: "a\"b", orgID: "o", configData: .object(["n": .int(1)]))
        #expect(try JSONDecoder().decode(PluginSpec.self, from: Data(spec.jsonText().utf8)) == spec)
        #expect(!PluginSpec(apiID: "x").jsonText().contains("config_data"))
    }

    @Test("A hook's request, with the fields it may fill still empty, is written field for field in Tyk's order; filling any of them writes it out in full")
    func defaultFieldsInOrder() throws {
        var request = MiniRequest(headers: ["X-A": ["1"]], body: "b", url: "/u", method: "GET", requestURI: "/u", scheme: "http")
        request.attributes = RequestAttributes(remoteAddress: "10.0.0.1", host: "h", apiID: "a", apiName: "n", listenPath: "/l/")
        let text = request.jsonText(headerFields: [(name: "X-A", value: "1")])
        #expect(text == #"{"Headers":{"X-A":["1"]},"SetHeaders":{},"DeleteHeaders":[],"Body":"b","URL":"/u","Params":{},"AddParams":{},"ExtendedParams":{},"DeleteParams":[],"ReturnOverrides":{"ResponseCode":0,"ResponseError":"","ResponseBody":"","ResponseHeaders":{},"OverrideError":false},"IgnoreBody":false,"Method":"GET","RequestURI":"/u","Scheme":"http","RemoteAddr":"10.0.0.1","Host":"h","APIID":"a","APIName":"n","ListenPath":"/l/"}"#)
        #expect(request.jsonText() == text)
        var filled = request
        filled.ignoreBody = true
        filled.deleteHeaders = ["X-B"]
        let filledText = filled.jsonText()
        #expect(filledText.contains(#""DeleteHeaders":["X-B"],"Body":"b""#))
        #expect(filledText.contains(#""OverrideError":false},"IgnoreBody":true,"Method":"GET""#))
        var decoded = try JSONDecoder().decode(MiniRequest.self, from: Data(filledText.utf8))
        decoded.attributes = filled.attributes
        #expect(decoded == filled)
    }

    @Test("Strings get short escapes, \\u00xx for the other control characters, and everything else as is")
    func escapes() {
        let text = MiniRequest(body: "q\" b\\ n\n r\r t\t x\u{1}\u{1F} é🚪 \u{7F}").jsonText()
        #expect(text.contains(#""Body":"q\" b\\ n\n r\r t\t x\u0001\u001f é🚪 \#u{7F}""#))
    }
}

@Suite("Return value types")
struct ReturnTypeTests {
    @Test("Wrong types in the returned request are refused with the field path, as Go's decoder would refuse them",
          arguments: [
            ("request.ReturnOverrides.ResponseCode = \"401\";", "Request.ReturnOverrides.ResponseCode must be an integer"),
            ("request.ReturnOverrides.ResponseCode = 401.5;", "Request.ReturnOverrides.ResponseCode must be an integer"),
            ("request.IgnoreBody = 1;", "Request.IgnoreBody must be true or false"),
            ("request.DeleteHeaders = [\"a\", 2];", "Request.DeleteHeaders[1] must be a string"),
            ("request.Body = {};", "Request.Body must be a string"),
          ])
    func strictTypes(statement: String, expected: String) async throws {
        let engine = try await Fixtures.engine(["mw.js": Fixtures.middleware("\(statement)\nreturn mw.ReturnData(request, {});")])
        defer { engine.shutdown() }
        await #expect {
            _ = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(), spec: Fixtures.spec, host: nil)
        } throws: { error in
            guard case PluginError.invalidReturn(_, let reason) = error else { return false }
            return reason.contains(expected)
        }
    }
}
