@testable import PortcullisGateway
import Testing

/// The path the proxy forwards when `strip_listen_path` is on.
@Suite("Proxy path")
struct ProxyPathTests {
    @Test("The listen path is stripped byte for byte, as Go's strings.HasPrefix; what is left starts with /")
    func stripsListenPath() {
        #expect(ProxyStage.relativePath("/api/users/7", listenPath: "/api/") == "/users/7")
        #expect(ProxyStage.relativePath("/api/", listenPath: "/api/") == "/")
        #expect(ProxyStage.relativePath("/api", listenPath: "/api/") == "/")
        #expect(ProxyStage.relativePath("/apix/y", listenPath: "/api/") == "/x/y")
        #expect(ProxyStage.relativePath("/other/y", listenPath: "/api/") == "/other/y")
        #expect(ProxyStage.relativePath("/anything", listenPath: "/") == "/anything")
        #expect(ProxyStage.relativePath("/café/ü?", listenPath: "/café/") == "/ü?")
        // The same text in another Unicode form is other bytes: not stripped.
        #expect(ProxyStage.relativePath("/cafe\u{301}/x", listenPath: "/caf\u{E9}/") == "/cafe\u{301}/x")
    }

    @Test("Client headers that describe the connection are not forwarded, in any spelling; look-alikes are")
    func hopByHopRequestHeaders() {
        for name in ["Connection", "keep-alive", "Proxy-Authenticate", "PROXY-AUTHORIZATION", "te", "Trailer",
                     "Transfer-Encoding", "upgrade", "Content-Length", "Host"] {
            #expect(UpstreamHeaders.isHopByHopRequest(name), "\(name)")
        }
        for name in ["Accept", "X-Host", "Hosts", "Tee", "Content-Type", "Authorization", "X-Forwarded-For"] {
            #expect(!UpstreamHeaders.isHopByHopRequest(name), "\(name)")
        }
    }
}

/// Which API a request path reaches.
@Suite("Route matching")
struct RouteMatchingTests {
    @Test("A listen path takes the paths below it and itself without the final slash, compared as bytes")
    func listenPathServes() {
        #expect(RouteTable.serves(listenPath: "/", path: "/anything"))
        #expect(RouteTable.serves(listenPath: "/api/", path: "/api/x"))
        #expect(RouteTable.serves(listenPath: "/api/", path: "/api/"))
        #expect(RouteTable.serves(listenPath: "/api/", path: "/api"))
        #expect(!RouteTable.serves(listenPath: "/api/", path: "/ap"))
        #expect(!RouteTable.serves(listenPath: "/api/", path: "/apx"))
        #expect(!RouteTable.serves(listenPath: "/api/", path: "/other/api/"))
        #expect(RouteTable.serves(listenPath: "/api", path: "/apix"), "a listen path without a final slash is a plain prefix")
        #expect(!RouteTable.serves(listenPath: "/api", path: "/ap"))
        #expect(RouteTable.serves(listenPath: "/café/", path: "/café"))
        #expect(!RouteTable.serves(listenPath: "/caf\u{E9}/", path: "/cafe\u{301}/x"))
    }

    @Test("Only /tyk and what is below /tyk/ is the admin API's")
    func adminPaths() {
        #expect(AdminAPI.isAdminPath("/tyk"))
        #expect(AdminAPI.isAdminPath("/tyk/keys/k"))
        #expect(!AdminAPI.isAdminPath("/tyk-other"))
        #expect(!AdminAPI.isAdminPath("/api/tyk/"))
    }
}
