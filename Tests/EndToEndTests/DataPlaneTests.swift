import Foundation
import PortcullisGateway
import PortcullisTestSupport
import Testing

/// The data plane over real sockets: pipelining, keep-alive upstream
/// connections, upstream failures and upstream TLS.
@Suite("Data plane", .serialized)
struct DataPlaneTests {
    /// Requests given as `METHOD target`, written back to back as one
    /// pipelined send; the last asks the gateway to close.
    private static func pipelined(_ requestLines: [String]) -> String {
        requestLines.enumerated().map { index, line in
            line + " HTTP/1.1\r\nHost: a\r\n" + (index == requestLines.count - 1 ? "Connection: close\r\n" : "") + "\r\n"
        }.joined()
    }

    /// The answers in what came back, each without its leading `HTTP/1.1 `.
    private static func answers(in received: String) -> [String] {
        Array(received.components(separatedBy: "HTTP/1.1 ").dropFirst())
    }

    private static func api(id: String, listen: String, target: String) -> String {
        """
        {"name": "\(id)", "api_id": "\(id)", "org_id": "org", "use_keyless": true,
         "proxy": {"listen_path": "\(listen)", "target_url": "\(target)", "strip_listen_path": true}}
        """
    }

    /// `/open/` answers with an echo, `/slow/` passes paths such as `/delay/MS` to the upstream.
    private static let openAndSlow = [
        "apps/open.json": Fixture.keylessAPI(id: "open", listen: "/open/"),
        "apps/slow.json": api(id: "slow", listen: "/slow/", target: "{{upstream}}"),
    ]

    @Test("Pipelined requests are all started and answered in request order, a slow first one included")
    func pipelining() async throws {
        let h = try await GatewayHarness.make(files: Self.openAndSlow)
        try await h.withServer { port in
            let requests = Self.pipelined(["GET /slow/delay/400", "GET /open/b?m=second", "GET /open/c?m=third"])
            let started = ContinuousClock.now
            let answer = try await LoopbackSocket.exchangeText(port: port, requests)
            let elapsed = ContinuousClock.now - started
            #expect(answer.components(separatedBy: "HTTP/1.1 200").count == 4, "\(answer.prefix(300))")
            let slow = answer.range(of: "\r\n\r\nok")
            let b = answer.range(of: "m=second")
            let c = answer.range(of: "m=third")
            #expect(slow != nil && b != nil && c != nil, "\(answer.prefix(400))")
            if let slow, let b, let c {
                #expect(slow.lowerBound < b.lowerBound && b.lowerBound < c.lowerBound, "answers in request order")
            }
            // The fast requests did not wait for the slow one to be answered first.
            #expect(elapsed < .seconds(2), "\(elapsed)")
        }
        await h.close()
    }

    @Test("Answers are framed by the gateway: 204 without length or body, HEAD with the upstream's length and no body, hook headers, garbage answered 400")
    func wireFraming() async throws {
        let plugins = #"""
        var split = new TykJS.TykMiddleware.NewMiddleware({});
        split.NewProcessRequest(function (request) {
          if (request.URL.indexOf("override") >= 0) {
            request.ReturnOverrides.ResponseCode = 200;
            request.ReturnOverrides.ResponseBody = "overridden";
            request.ReturnOverrides.ResponseHeaders = {"X-Set": "by hook", "Content-Type": "text/plain"};
          }
          return split.ReturnData(request, {});
        });
        """#
        let files = Self.openAndSlow.merging([
            "plugins.js": plugins,
            "apps/framed.json": Fixture.keylessAPI(id: "framed", listen: "/framed/", pre: [("split", "plugins.js")]),
        ]) { $1 }
        let logs = LogBook()
        let h = try await GatewayHarness.make(files: files, logs: logs)
        try await h.withServer { port in
            let answer = try await LoopbackSocket.exchangeText(port: port, Self.pipelined(["GET /slow/status/204", "HEAD /slow/plain", "GET /framed/override",
                                                                  "GET /framed/echo"]))
            let parts = Self.answers(in: answer)
            #expect(parts.count == 4, "\(answer.prefix(800))")
            guard parts.count == 4 else { return }
            #expect(logs.since(0).filter { $0.level >= .error }.map(\.text) == [])
            #expect(parts[0].hasPrefix("204 No Content\r\n") && parts[0].hasSuffix("\r\n\r\n"), "\(parts[0])")
            #expect(!parts[0].lowercased().contains("content-length"), "\(parts[0])")
            #expect(parts[1].hasPrefix("200 OK\r\n") && parts[1].hasSuffix("\r\n\r\n"), "HEAD has no body: \(parts[1])")
            // The upstream's length for the GET it would have answered ("ok"), not the empty body's.
            #expect(parts[1].contains("Content-Length: 2\r\n") && parts[1].components(separatedBy: "Content-Length").count == 2,
                    "\(parts[1])")
            #expect(parts[2].hasPrefix("200 OK\r\n") && parts[2].hasSuffix("\r\n\r\noverridden"), "\(parts[2])")
            #expect(parts[2].contains("X-Set: by hook\r\n") && parts[2].contains("Content-Length: 10\r\n"), "\(parts[2])")
            #expect(parts[2].components(separatedBy: "Content-Type").count == 2, "the hook's type, no sniffed one: \(parts[2])")
            #expect(parts[3].hasPrefix("200 OK\r\n") && parts[3].contains("Connection: close\r\n"), "\(parts[3])")
            #expect(parts[3].contains(#""uri":"\/echo\/echo""#) || parts[3].contains(#""uri":"/echo/echo""#), "\(parts[3])")

            let garbage = try await LoopbackSocket.exchangeText(port: port, "HELLO THERE\r\n\r\n")
            #expect(garbage == "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", "\(garbage)")
            // A request already read is answered before the 400's close.
            let late = try await LoopbackSocket.exchangeText(port: port, "GET /open/first HTTP/1.1\r\nHost: a\r\n\r\nNOT HTTP\r\n\r\n")
            #expect(late.hasPrefix("HTTP/1.1 200 OK\r\n") && late.contains("Connection: close\r\n"), "\(late.prefix(300))")
        }
        await h.close()
    }

    @Test("Upstream connections are kept alive and reused; a dead upstream is 502, a slow one 504")
    func keepAliveAndFailures() async throws {
        let files = Self.openAndSlow.merging(["apps/dead.json": Self.api(id: "dead", listen: "/dead/", target: "http://127.0.0.1:1")]) { $1 }
        let h = try await GatewayHarness.make(files: files) { config in config.proxyDefaultTimeout = 0.5 }
        for index in 0..<20 {
            #expect(await h.send("/open/\(index)").status == 200)
        }
        let open = await h.gateway.services.upstream.openConnections()
        #expect(open >= 1 && open <= 2, "20 sequential requests used \(open) upstream connections (at most one per event loop)")

        let dead = await h.send("/dead/x")
        #expect(dead.status == 502)
        #expect(String(decoding: dead.body, as: UTF8.self).contains("There was a problem proxying the request"))
        let slow = await h.send("/slow/delay/2000")
        #expect(slow.status == 504)
        #expect(String(decoding: slow.body, as: UTF8.self).contains("Upstream service reached hard timeout."))
        #expect(await h.send("/open/after").status == 200, "the node keeps serving")
        await h.close()
    }

    @Test("https upstreams: refused with an unverifiable certificate, served with proxy_ssl_insecure_skip_verify")
    func upstreamTLS() async throws {
        let tls = try await TLSUpstream.start()
        let files = ["apps/secure.json": Self.api(id: "secure", listen: "/secure/", target: "https://localhost:\(tls.port)/base")]
        let verifying = try await GatewayHarness.make(files: files)
        let refused = await verifying.send("/secure/items?x=1")
        #expect(refused.status == 502, "a self-signed certificate fails verification")
        await verifying.close()

        let trusting = try await GatewayHarness.make(files: files) { config in config.proxySSLInsecureSkipVerify = true }
        let served = await trusting.send("/secure/items?x=1")
        #expect(served.status == 200)
        #expect(String(decoding: served.body, as: UTF8.self) == "tls /base/items?x=1")
        try await trusting.withServer { port in
            let answer = try await LoopbackSocket.exchangeText(port: port, "GET /secure/sock HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer.prefix(80))")
            #expect(answer.hasSuffix("tls /base/sock"))
        }
        await trusting.close()
        await tls.stop()
    }

    @Test("An idle kept-alive connection is closed after the idle timeout; one waiting on a slow upstream is answered")
    func idleConnections() async throws {
        let h = try await GatewayHarness.make(files: Self.openAndSlow)
        var server = GatewayServer(gateway: h.gateway)
        server.idleTimeout = .milliseconds(300)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let running = Task { [server] in try await server.run(onListening: { continuation.yield($0) }) }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }

        let started = ContinuousClock.now
        let kept = try await LoopbackSocket.exchangeText(port: port, "GET /open/a HTTP/1.1\r\nHost: a\r\n\r\n")
        let closedAfter = ContinuousClock.now - started
        #expect(kept.hasPrefix("HTTP/1.1 200"), "\(kept.prefix(80))")
        #expect(closedAfter < .seconds(2), "the server closed the idle connection (after \(closedAfter)), not the client's 5 s wait")

        let slow = try await LoopbackSocket.exchangeText(port: port, "GET /slow/delay/900 HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(slow.hasPrefix("HTTP/1.1 200"), "a request outlasting the idle timeout is still answered: \(slow.prefix(80))")

        running.cancel()
        _ = await running.result
        await h.close()
    }

    @Test("JS pre hooks over real sockets: two hooks in order, an override, a thrown error, pipelined requests answered in order")
    func preHooksOverSockets() async throws {
        let plugins = #"""
        var first = new TykJS.TykMiddleware.NewMiddleware({});
        first.NewProcessRequest(function (request) {
          request.SetHeaders["X-Order"] = "first";
          if (request.URL.indexOf("deny") >= 0) {
            request.ReturnOverrides.ResponseCode = 403;
            request.ReturnOverrides.ResponseError = "denied by hook";
          }
          if (request.URL.indexOf("boom") >= 0) { throw new Error("boom"); }
          return first.ReturnData(request, {});
        });
        var second = new TykJS.TykMiddleware.NewMiddleware({});
        second.NewProcessRequest(function (request) {
          request.SetHeaders["X-Order"] = request.Headers["X-Order"] ? request.Headers["X-Order"][0] + ",second" : "lost";
          return second.ReturnData(request, {});
        });
        """#
        let h = try await GatewayHarness.make(files: [
            "plugins.js": plugins,
            "apps/hooked.json": Fixture.keylessAPI(id: "hooked", listen: "/hooked/", pre: [("first", "plugins.js"), ("second", "plugins.js")]),
        ])
        try await h.withServer { port in
            let answer = try await LoopbackSocket.exchangeText(port: port, Self.pipelined(["GET /hooked/a?n=1", "GET /hooked/deny", "GET /hooked/boom",
                                                                  "GET /hooked/b?n=4"]))
            let statuses = Self.answers(in: answer).map { String($0.prefix(3)) }
            #expect(statuses == ["200", "403", "500", "200"], "\(answer.prefix(600))")
            #expect(answer.contains(#""x-order":"first,second""#), "\(answer.prefix(600))")
            #expect(answer.contains("{\n    \"error\": \"denied by hook\"\n}"))
            let first = answer.range(of: "n=1"), last = answer.range(of: "n=4")
            #expect(first != nil && last != nil && first!.lowerBound < last!.lowerBound, "answers in request order")
        }
        await h.close()
    }
}
