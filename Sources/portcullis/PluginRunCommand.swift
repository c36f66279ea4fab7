import ArgumentParser
import Foundation
import Logging
import PortcullisCore
import PortcullisGateway
import PortcullisJS

/// `portcullis plugin run`: one middleware call, printed as JSON.
struct PluginRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one JS middleware on a request and print what it did as JSON.",
        discussion: """
        The plugin is loaded after the Tyk prelude, exactly as the gateway loads it, and \
        called once. The output lists the request changes (SetHeaders, DeleteHeaders, Body, \
        URL, params), ReturnOverrides, the SessionMeta it returned, every TykSetKeyData \
        write and every log line. Exit status: 0 when the plugin ran, 1 when it failed \
        (syntax error, exception, timeout, invalid return), 2 for bad command input.

        The request file uses Tyk's field names; header values may be strings:
          {"Method": "GET", "URL": "/api/items?x=1",
           "Headers": {"Authorization": "abc123"}, "Body": ""}
        The session file is a Tyk session object ({"expires": 1700000000, ...}). It is stored \
        under --key (default: the request's Authorization header) so TykGetKeyData finds \
        it, and passed as the handler's session for post and post_key_auth hooks. \
        The config file is the spec object: {"APIID": "...", "OrgID": "...", "config_data": {...}}.

        Examples:
          portcullis plugin run plugins/header-injection.js \\
              --request examples/requests/get.json
          portcullis plugin run plugins/forum-renewal.js --request examples/requests/renew.json \\
              --session examples/sessions/expired.json \\
              --config examples/plugin-config.json --now 1700000000
        """
    )

    @Argument(help: "The plugin file (.js).")
    var plugin: String

    @Option(help: "Request fixture (JSON, Tyk request-object fields).")
    var request: String

    @Option(help: "Session JSON stored under --key and given to post/post_key_auth hooks.")
    var session: String?

    @Option(help: "Spec JSON: {\"APIID\", \"OrgID\", \"config_data\"}.")
    var config: String?

    @Option(help: "The key the session is stored under (default: the Authorization header).")
    var key: String?

    @Option(help: "Global name of the middleware object or virtual endpoint function (default: the one the file defines).")
    var handler: String?

    @Option(help: "Run as hook: \(PluginRunner.Hook.allCases.map(\.rawValue).joined(separator: ", ")).")
    var hook: String = "pre"

    @Option(help: "Execution time limit in seconds (jsvm_timeout).")
    var timeout: Double = 5

    @Option(help: "Fix the clock (JS Date) at this Unix time in seconds.")
    var now: Double?

    @Flag(help: "Accept any TLS certificate for TykMakeHttpRequest.")
    var insecureSkipVerify = false

    func run() async throws {
        guard let hookValue = PluginRunner.Hook(rawValue: hook) else {
            throw ValidationError("unknown --hook '\(hook)'; use one of \(PluginRunner.Hook.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let script = PluginScript(path: plugin, source: try CommandSupport.readFile(plugin, what: "plugin"))
        let requestObject = try RequestFixture.parse(try CommandSupport.readFile(request, what: "request"), file: request)
        var sessionValue: JSONValue?
        if let session {
            do {
                sessionValue = try JSONValue(parsing: try CommandSupport.readFile(session, what: "session"))
            } catch let error as ValidationError {
                throw error
            } catch {
                throw ValidationError("\(session): not valid JSON")
            }
        }
        var spec = PluginSpec(apiID: "plugin-run")
        if let config {
            do {
                spec = try JSONDecoder().decode(PluginSpec.self, from: Data(try CommandSupport.readFile(config, what: "config").utf8))
            } catch let error as ValidationError {
                throw error
            } catch {
                throw ValidationError("\(config): expected {\"APIID\": string, \"OrgID\": string, \"config_data\": any}")
            }
        }
        let storedKey = key ?? requestObject.headers.first { $0.key.lowercased() == "authorization" }?.value.first

        CommandSupport.bootstrapLogging(.warning)
        let clock: any GatewayClock = now.map { VirtualClock(start: Date(timeIntervalSince1970: $0)) } ?? SystemClock()
        let engine = JSEngine(configuration: JSEngineConfiguration(workerCount: 1, timeoutSeconds: timeout, clock: clock))
        let transport = HTTPClientTransport(tls: .init(insecureSkipVerify: insecureSkipVerify))
        let runner = PluginRunner(engine: engine, transport: transport)
        let input = PluginRunner.Input(script: script, handler: handler, hook: hookValue, request: requestObject,
                                       session: sessionValue, key: storedKey, spec: spec)
        let outcome: Result<JSONValue, any Error>
        do {
            outcome = .success(try await runner.run(input))
        } catch {
            outcome = .failure(error)
        }
        try? await transport.shutdown()
        engine.shutdown()
        switch outcome {
        case .success(let report):
            print(PrettyJSON.render(report))
        case .failure(let error):
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// Indented, key-sorted JSON for people to read.
enum PrettyJSON {
    static func render(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return value.jsonString() }
        return String(decoding: data, as: UTF8.self)
    }
}
