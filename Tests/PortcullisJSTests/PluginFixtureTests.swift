import Foundation
import PortcullisCore
import PortcullisGateway
import Testing
@testable import PortcullisJS

/// `portcullis plugin test` as a library: fixture files, the runner on real
/// JavaScriptCore, the diff, and source excerpts in plugin errors.
@Suite("Plugin fixtures")
struct PluginFixtureTests {
    /// A pre hook that calls an auth service through TykMakeHttpRequest,
    /// reads and renews a session, and sets headers from config_data.
    static let plugin = PluginScript(path: "plugins/checker.js", source: """
        var checker = new TykJS.TykMiddleware.NewMiddleware({});
        checker.NewProcessRequest(function (request, session, config) {
            var key = request.Headers["X-Key"] ? request.Headers["X-Key"][0] : "";
            if (!key) {
                request.ReturnOverrides.ResponseCode = 401;
                request.ReturnOverrides.ResponseError = "no key";
                return checker.ReturnData(request, {});
            }
            var reply = JSON.parse(TykMakeHttpRequest(JSON.stringify({Method: "GET", Domain: config.config_data.auth, Resource: "/users/" + key})));
            var user = JSON.parse(reply.Body);
            request.SetHeaders["X-User"] = user.name;
            request.SetHeaders["X-Team"] = config.config_data.team;
            request.DeleteHeaders.push("X-Key");
            var stored = JSON.parse(TykGetKeyData(key, config.APIID));
            if (stored.status === "error" || stored.expires <= Math.floor(Date.now() / 1000)) {
                TykSetKeyData(key, JSON.stringify({expires: Math.floor(Date.now() / 1000) + 60, alias: user.name}));
                log("renewed " + key);
            }
            return checker.ReturnData(request, {});
        });
        """)

    static func fixture(_ text: String, file: String = "fixtures/case.json") throws -> PluginFixture {
        try PluginFixtureParser.parse(text, file: file)
    }

    static let passing = """
        {
          "name": "an expired key is renewed and the user header set",
          "now": 1700000000,
          "config_data": {"auth": "https://auth.example", "team": "platform"},
          "request": {"method": "GET", "path": "/api/items?x=1", "headers": {"x-key": "k1"}},
          "store": {"k1": {"expires": 1699999999, "alias": "old"}},
          "http": [{"url": "https://auth.example/users/k1", "response": {"code": 200, "body": {"name": "ada"}}}],
          "expect": {
            "request": {"SetHeaders": {"X-User": "ada", "X-Team": "platform"}, "DeleteHeaders": ["X-Key"], "URL": "/api/items?x=1"},
            "overrides": {"ResponseCode": 0},
            "session_writes": {"k1": {"expires": 1700000060, "alias": "ada"}, "k2": null},
            "logs": ["renewed k1"]
          }
        }
        """

    @Test("Fixtures whose expectations hold pass, with stubbed HTTP, a seeded store and a fixed clock")
    func passingFixtures() async throws {
        let missingKey = try Self.fixture("""
            {"name": "no key is refused", "request": {"url": "/api/items"},
             "expect": {"overrides": {"ResponseCode": 401, "ResponseError": "no key"}, "session_writes": {"k1": null}}}
            """, file: "fixtures/no-key.json")
        let report = await PluginFixtureRunner().run(script: Self.plugin, fixtures: [try Self.fixture(Self.passing), missingKey])
        #expect(report.results.map(\.failures) == [[], []])
        #expect(report.allPassed)
        #expect(report.rendered().hasSuffix("2 passed, 0 failed"))
        #expect(report.rendered().contains("PASS an expired key is renewed and the user header set (fixtures/case.json)"))
    }

    @Test("A wrong expected value fails with the field's dotted path and both values")
    func wrongValueDiff() async throws {
        var text = Self.passing.replacingOccurrences(of: #""ResponseCode": 0"#, with: #""ResponseCode": 401"#)
        text = text.replacingOccurrences(of: #""expires": 1700000060"#, with: #""expires": 1700000061"#)
        text = text.replacingOccurrences(of: #""renewed k1""#, with: #""refreshed k1""#)
        let report = await PluginFixtureRunner().run(script: Self.plugin, fixtures: [try Self.fixture(text)])
        let failures = try #require(report.results.first?.failures)
        #expect(failures.contains(.difference(FieldDifference(path: "overrides.ResponseCode", expected: "401", actual: "0"))))
        #expect(failures.contains(.difference(FieldDifference(path: "session_writes.k1.expires", expected: "1700000061",
                                                              actual: "1700000060"))))
        #expect(failures.contains { $0.description.hasPrefix(#"logs[0]: - "refreshed k1" + (in no log line; logged: ["renewed k1"])"#) })
        #expect(failures.count == 3)
        let rendered = report.rendered()
        #expect(rendered.contains("FAIL an expired key is renewed and the user header set (fixtures/case.json)"))
        #expect(rendered.contains("    overrides.ResponseCode: - 401 + 0"))
        #expect(rendered.contains("    session_writes.k1.expires: - 1700000061 + 1700000060"))
        #expect(rendered.hasSuffix("0 passed, 1 failed"))
    }

    @Test("A session expected as never written fails when the plugin writes it")
    func unexpectedWrite() async throws {
        let text = Self.passing.replacingOccurrences(of: #""session_writes": {"k1": {"expires": 1700000060, "alias": "ada"}, "k2": null}"#,
                                                     with: #""session_writes": {"k1": null}"#)
        let report = await PluginFixtureRunner().run(script: Self.plugin, fixtures: [try Self.fixture(text)])
        let failure = try #require(report.results.first?.failures.first)
        guard case .difference(let difference) = failure else {
            Issue.record("expected a difference, got \(failure)")
            return
        }
        #expect(difference.path == "session_writes.k1")
        #expect(difference.expected == "null")
        #expect(difference.actual == #"{"alias":"ada","expires":1700000060}"#)
    }

    @Test("A TykMakeHttpRequest call no stub matches fails the fixture and names the URL")
    func unmatchedHTTP() async throws {
        let text = Self.passing.replacingOccurrences(of: "https://auth.example/users/k1", with: "https://auth.example/users/other")
        let report = await PluginFixtureRunner().run(script: Self.plugin, fixtures: [try Self.fixture(text)])
        let failures = try #require(report.results.first?.failures)
        #expect(failures.first == .unmatchedHTTP(StubHTTPTransport.UnmatchedCall(method: "GET", url: "https://auth.example/users/k1")))
        #expect(report.rendered().contains("http: TykMakeHttpRequest GET https://auth.example/users/k1 matched no stub"))
        #expect(!report.allPassed)
    }

    @Test("A plugin exception fails the fixture with its source line and caret; expect.error accepts it")
    func pluginErrorInFixture() async throws {
        let thrower = PluginScript(path: "plugins/thrower.js", source: """
            var thrower = new TykJS.TykMiddleware.NewMiddleware({});
            thrower.NewProcessRequest(function (request, session, config) {
                var keyData = TykGetKeyData("missing", config.APIID);
                var s = JSON.parse(keyData).session.expires;
                return thrower.ReturnData(request, {});
            });
            """)
        let unexpected = try Self.fixture(#"{"name": "throws", "request": {}}"#)
        let expected = try Self.fixture(#"{"name": "throws as expected", "request": {}, "expect": {"error": "undefined is not an object"}}"#)
        let wrong = try Self.fixture(#"{"name": "throws something else", "request": {}, "expect": {"error": "RangeError"}}"#)
        let report = await PluginFixtureRunner().run(script: thrower, fixtures: [unexpected, expected, wrong])
        #expect(report.results.map(\.passed) == [false, true, false])
        let rendered = report.rendered()
        #expect(rendered.contains("    error: plugin thrower threw at plugins/thrower.js:4: TypeError"))
        #expect(rendered.contains("      4 |     var s = JSON.parse(keyData).session.expires;\n"))
        #expect(rendered.contains(#"    error: - "RangeError" + "plugin thrower threw at plugins/thrower.js:4: TypeError"#))
    }

    @Test("A fixture naming a handler the plugin does not define cannot run, and says which name")
    func unknownHandler() async throws {
        let fixture = try Self.fixture(#"{"name": "wrong handler", "handler": "checkr", "request": {}, "expect": {"overrides": {"ResponseCode": 0}}}"#)
        let report = await PluginFixtureRunner().run(script: Self.plugin, fixtures: [fixture])
        #expect(report.results.first?.failures == [.cannotRun(
            "plugins/checker.js defines no global object or function named 'checkr'; check \"handler\" in the fixture")])
        #expect(report.summary == "0 passed, 1 failed")
    }

    @Test("Malformed fixture files are refused naming the file and the field")
    func malformedFixtures() throws {
        let cases: [(String, String)] = [
            (#"{"name": "x", "request": {}, "expct": {}}"#,
             "fixtures/renew.json: field 'expct' is not a known field; known fields: name, handler, hook, now, request"),
            (#"{"name": "x", "request": {}, "expect": {"overides": {}}}"#,
             "fixtures/renew.json: field 'expect.overides' is not a known field; known fields: request, overrides"),
            (#"{"name": "x", "request": {}, "expect": {"request": {"SetHeader": {}}}}"#,
             "fixtures/renew.json: field 'expect.request.SetHeader' is not a known field; known fields: SetHeaders"),
            (#"{"name": "x", "request": {"headers": {"X-A": 1}}}"#,
             "fixtures/renew.json: field 'request.headers.X-A' must be a string or a list of strings, found an integer"),
            (#"{"name": "x", "request": {}, "http": [{"url": "https://a", "respons": {}}]}"#,
             "fixtures/renew.json: field 'http[0].respons' is not a known field"),
            (#"{"request": {}}"#, "fixtures/renew.json: field 'name' is required"),
            (#"{"name": "x", "request": {}, "hook": "middle"}"#, "fixtures/renew.json: field 'hook' is 'middle'; use one of pre, auth"),
            (#"{"name": "x", "request": {}, "expect": {"response": {"Code": 200}}}"#,
             "fixtures/renew.json: field 'expect.response' applies only to \"hook\": \"virtual\""),
            (#"{"name": "x", "request": {}, "expect": {"logs": "one"}}"#,
             "fixtures/renew.json: field 'expect.logs' must be a list of strings, found a string"),
            (#"{"name": "x", "request": {}"#, "fixtures/renew.json: not valid JSON:"),
        ]
        for (text, message) in cases {
            #expect {
                _ = try PluginFixtureParser.parse(text, file: "fixtures/renew.json")
            } throws: { error in
                "\(error)".hasPrefix(message)
            }
        }
    }

    @Test("A folder is read in file-name order, and one malformed file refuses the whole folder naming it")
    func folderLoading() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fixtures-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try #"{"name": "second", "request": {}}"#.write(to: folder.appendingPathComponent("b.json"), atomically: true, encoding: .utf8)
        try #"{"name": "first", "request": {}}"#.write(to: folder.appendingPathComponent("a.json"), atomically: true, encoding: .utf8)
        try "not a fixture".write(to: folder.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        #expect(try PluginFixtureParser.load(folder.path).map(\.name) == ["first", "second"])

        try #"{"name": "bad", "request": {}, "expect": {"overrides": {"ResponseCod": 1}}}"#
            .write(to: folder.appendingPathComponent("c.json"), atomically: true, encoding: .utf8)
        #expect(throws: PluginFixtureError.unknownField(file: folder.path + "/c.json", field: "expect.overrides.ResponseCod",
                                                        known: PluginFixtureParser.overrideFields)) {
            _ = try PluginFixtureParser.load(folder.path)
        }
    }

    @Test("The example fixtures for the forum renewal plugin all pass")
    func exampleFolderPasses() async throws {
        let root = Fixtures.repositoryRoot
        let folder = root.appendingPathComponent("examples/plugin-fixtures/forum-renewal").path
        let fixtures = try PluginFixtureParser.load(folder)
        #expect(fixtures.count >= 3)
        let report = await PluginFixtureRunner().run(script: try Fixtures.pluginFile("forum-renewal.js"), fixtures: fixtures)
        #expect(report.allPassed, "\(report.rendered())")
        #expect(report.passedCount == fixtures.count)
        // The renewal fixture really checks the renewed expiry: the plugin's result differs from a wrong value.
        var renewal = try #require(fixtures.first { $0.file.hasSuffix("renew-expired.json") })
        renewal.expect.fields["session_writes"] = .object(["k-expired": .object(["expires": .int(1_700_000_000)])])
        let broken = await PluginFixtureRunner().run(script: try Fixtures.pluginFile("forum-renewal.js"), fixtures: [renewal])
        #expect(broken.results.first?.failures == [.difference(FieldDifference(
            path: "session_writes.k-expired.expires", expected: "1700000000", actual: "1700000060"))])
    }

    @Test("A plugin exception shows the source line with a caret under the column JavaScriptCore reports")
    func exceptionCaret() async throws {
        let engine = try await Fixtures.engine(["plugins/parse.js": Fixtures.middleware("""
            var keyData = "{";
                var s = JSON.parse(keyData);
            return mw.ReturnData(request, {});
            """)])
        defer { engine.shutdown() }
        do {
            _ = try await engine.runMiddleware(realm: "test-api", handler: "mw", request: MiniRequest(), spec: Fixtures.spec, host: nil)
            Issue.record("the plugin should have thrown")
        } catch let error as PluginError {
            guard case .exception(_, let location?, _) = error else {
                Issue.record("expected an exception with a location, got \(error)")
                return
            }
            #expect(location.line == 4)
            #expect(location.column == 23)
            #expect(location.sourceLine == "    var s = JSON.parse(keyData);")
            let lines = error.description.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count == 3)
            #expect(lines.first?.hasPrefix("plugin mw threw at plugins/parse.js:4: SyntaxError: JSON Parse error") == true)
            #expect(lines.dropFirst().joined(separator: "\n") == """
                  4 |     var s = JSON.parse(keyData);
                    |                       ^
                """)
        }
    }

    @Test("A syntax error shows the line with a caret under the offending token; a load failure shows its line")
    func syntaxAndLoadCaret() async throws {
        let engine = JSEngine(configuration: JSEngineConfiguration(workerCount: 1))
        defer { engine.shutdown() }
        do {
            try await engine.loadRealm("api", scripts: [PluginScript(path: "plugins/broken.js", source: "var ok = 1;\n\nvar x = {a: 1,, b: 2};\n")])
            Issue.record("the plugin should not load")
        } catch let error as PluginError {
            #expect(error == .syntaxError(SourceLocation(file: "plugins/broken.js", line: 3), message: "SyntaxError: Unexpected token ','. Expected a property name."))
            #expect(error.description == """
                syntax error in plugin plugins/broken.js:3: SyntaxError: Unexpected token ','. Expected a property name.
                  3 | var x = {a: 1,, b: 2};
                    |               ^
                """)
        }
        do {
            try await engine.loadRealm("api", scripts: [PluginScript(path: "plugins/top.js", source: "var a = 1;\r\n\tvar b = missing.value;\r\n")])
            Issue.record("the plugin should not load")
        } catch let error as PluginError {
            guard case .loadFailed(let location, _) = error else {
                Issue.record("expected a load failure, got \(error)")
                return
            }
            #expect(location.sourceLine == "\tvar b = missing.value;")
            // JavaScriptCore puts a ReferenceError's column just after the name (column 17 here).
            #expect(location.column == 17)
            #expect(error.description.hasSuffix("\n  2 | \tvar b = missing.value;\n    | \t" + String(repeating: " ", count: 15) + "^"))
        }
    }

    @Test("Source excerpts keep tabs, cut long lines around the column, and stay off without the line's text")
    func excerptRendering() throws {
        #expect(SourceLocation(file: "a.js", line: 7, column: 3, sourceLine: "\tx(;").excerpt == "  7 | \tx(;\n    | \t ^")
        #expect(SourceLocation(file: "a.js", line: 12, column: nil, sourceLine: "foo()").excerpt == "  12 | foo()")
        #expect(SourceLocation(file: "a.js", line: 12, column: 4).excerpt == nil)
        let long = String(repeating: "a", count: 300) + "BOOM" + String(repeating: "b", count: 300)
        let excerpt = SourceLocation(file: "m.js", line: 1, column: 301, sourceLine: long).excerpt ?? ""
        let lines = excerpt.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines[0].count < 140)
        let caret = try #require(lines[1].firstIndex(of: "^") as String.Index?)
        let boom = try #require(lines[0].range(of: "BOOM") as Range<String.Index>?)
        #expect(lines[1].distance(from: lines[1].startIndex, to: caret) == lines[0].distance(from: lines[0].startIndex, to: boom.lowerBound))
    }
}
