import ArgumentParser
import Foundation
import PortcullisGateway
import PortcullisJS

/// `portcullis plugin test`: table-driven fixtures for one plugin file.
struct PluginTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run a plugin against a folder of JSON fixtures and report what differs.",
        discussion: """
        Each *.json file in the folder is one fixture, run in file-name order on a \
        fresh context, the way the gateway calls the plugin. TykGetKeyData and \
        TykSetKeyData use an in-memory store seeded from the fixture. \
        TykMakeHttpRequest is answered only by the fixture's "http" stubs; a call \
        no stub matches fails the fixture, naming the URL.

        Example fixture:
          {
            "name": "an expired key is renewed",
            "hook": "pre",
            "now": 1700000000,
            "request": {"method": "GET", "url": "/forum/x",
                        "headers": {"X-Session-Key": "k1"}},
            "config_data": {"session_expires_seconds": "60"},
            "store": {"k1": {"expires": 1699999990}},
            "http": [{"method": "GET", "url": "https://auth.example/check",
                      "response": {"code": 200, "body": {"ok": true}}}],
            "expect": {
              "overrides": {"ResponseCode": 0},
              "session_writes": {"k1": {"expires": 1700000060}},
              "logs": ["new session"]
            }
          }

        Required: name, request (method, url or path, headers, body). \
        Optional: handler (default: the one middleware in the file), hook (pre, \
        auth, post_key_auth, post, virtual; default pre), now (Unix seconds for \
        Date), session (the request's session) and key (stores it under that \
        key), store (sessions by key), api_id, org_id, config_data, http (stubs \
        matched by method, default GET, and exact URL), expect.

        expect holds any of:
          request         SetHeaders, DeleteHeaders, URL, Body, IgnoreBody,
                          AddParams, ExtendedParams, DeleteParams
          overrides       ResponseCode, ResponseError, ResponseBody,
                          ResponseHeaders, OverrideError
          response        a virtual endpoint's Code, Headers, Body
          session_meta    the SessionMeta returned
          session         the session an auth hook returns (and auth_value)
          session_writes  key -> fields its last write must have;
                          null means "never written"
          logs            substrings that some log line must contain
          error           a substring of the error the plugin must fail with
        Objects match as subsets: fields not named are not checked. Unknown \
        field names are refused, so a typo cannot weaken a test.

        A failing fixture prints one line per differing field, with its path:
          overrides.ResponseCode: - 401 + 200
        The last line is "N passed, M failed". Exit status: 0 when all pass, \
        1 when any fails, 2 when the plugin or a fixture cannot be read or a \
        fixture is malformed.

        Example:
          portcullis plugin test plugins/forum-renewal.js \\
              examples/plugin-fixtures/forum-renewal/
        """
    )

    @Argument(help: "The plugin file (.js).")
    var plugin: String

    @Argument(help: "A folder of fixture files (*.json), or one fixture file.")
    var fixtures: String

    @Option(help: "Execution time limit per call in seconds (jsvm_timeout).")
    var timeout: Double = 5

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: plugin) else {
            throw Self.inputError("cannot read plugin file '\(plugin)'")
        }
        let script = PluginScript(path: plugin, source: String(decoding: data, as: UTF8.self))
        let loaded: [PluginFixture]
        do {
            loaded = try PluginFixtureParser.load(fixtures)
        } catch {
            throw Self.inputError("\(error)")
        }
        CommandSupport.bootstrapLogging(.warning)
        let report = await PluginFixtureRunner(timeoutSeconds: timeout).run(script: script, fixtures: loaded)
        print(report.rendered())
        if !report.allPassed { throw ExitCode(1) }
    }

    /// Reports a problem with the command's input; the run then exits 2.
    private static func inputError(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        return ExitCode(2)
    }
}
