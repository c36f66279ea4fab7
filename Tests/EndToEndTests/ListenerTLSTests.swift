import Foundation
import PortcullisGateway
import PortcullisTestSupport
import Testing

/// TLS on the listeners (`http_server_options.use_ssl`), tried with curl
/// as a client would: HTTPS on the proxy path, the admin API over TLS on
/// the control listener, SNI choosing the certificate, `min_version`.
@Suite("Listener TLS", .serialized)
struct ListenerTLSTests {
    struct Curl {
        var status: Int32
        var output: String
    }

    static func curl(_ arguments: [String]) throws -> Curl {
        let (status, output) = try ToolRun.output("curl", ["-s", "--max-time", "10"] + arguments)
        return Curl(status: status, output: output)
    }

    static func harness(_ certificates: TestCertificates, minVersion: String, controlPort: Int = 0) async throws -> GatewayHarness {
        let other = try certificates.issue("other", dns: ["api.other.test"])
        return try await GatewayHarness.make(files: ["apps/open.json": Fixture.keylessAPI(id: "open", listen: "/open/")]) { config in
            config.listenerTLS = ListenerTLSConfig(certificates: [
                .init(domainName: "localhost", certFile: certificates.serverCert, keyFile: certificates.serverKey),
                .init(domainName: "*.other.test", certFile: other.cert, keyFile: other.key),
            ], minVersion: minVersion)
            if controlPort > 0 {
                config.controlAPIPort = controlPort
                config.controlAPIUseSSL = true
            }
        }
    }

    @Test("HTTPS on the proxy path, SNI picks the certificate, the admin API answers over TLS on the control listener")
    func httpsAndSNI() async throws {
        let certificates = try TestCertificates()
        let controlPort = try RedisServer.freePort()
        let h = try await Self.harness(certificates, minVersion: "1.2", controlPort: controlPort)
        try await h.withServer { port in
            let plain = try Self.curl(["--cacert", certificates.caFile, "-w", "%{http_code}", "-o", "/dev/null", "https://localhost:\(port)/open/x"])
            #expect(plain.status == 0 && plain.output == "200", "\(plain)")
            let body = try Self.curl(["--cacert", certificates.caFile, "https://localhost:\(port)/open/feed?page=2"])
            #expect(body.output.contains(#""uri":"\/echo\/feed?page=2""#), "\(body.output)")
            // The wildcard certificate for *.other.test is the only one that verifies for this name.
            let sni = try Self.curl(["--cacert", certificates.caFile, "--resolve", "api.other.test:\(port):127.0.0.1",
                                     "-w", "%{http_code}", "-o", "/dev/null", "https://api.other.test:\(port)/open/x"])
            #expect(sni.status == 0 && sni.output == "200", "SNI chose the *.other.test certificate: \(sni)")
            let unknown = try Self.curl(["--cacert", certificates.caFile, "--resolve", "unknown.test:\(port):127.0.0.1",
                                         "-o", "/dev/null", "https://unknown.test:\(port)/open/x"])
            #expect(unknown.status != 0, "an unknown name gets the first certificate, which does not verify for it")
            let cleartext = try Self.curl(["-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/open/x"])
            #expect(cleartext.output != "200", "plain HTTP to the TLS listener is not served")

            let admin = try Self.curl(["--cacert", certificates.caFile, "-H", "x-tyk-authorization: \(GatewayHarness.secret)",
                                       "https://localhost:\(controlPort)/tyk/keys/nobody"])
            #expect(admin.status == 0 && admin.output.contains("Key not found"), "\(admin)")
            let adminCleartext = try Self.curl(["-o", "/dev/null", "-w", "%{http_code}", "-H", "x-tyk-authorization: \(GatewayHarness.secret)",
                                                "http://127.0.0.1:\(controlPort)/tyk/keys/nobody"])
            #expect(adminCleartext.output != "404" && adminCleartext.output != "200", "the admin secret never crosses in clear text")
        }
        await h.close()
    }

    @Test("min_version: a TLS 1.1 client is refused at 1.2; at 1.3 a 1.2 client is refused and a 1.3 one served")
    func minimumVersion() async throws {
        let certificates = try TestCertificates()
        let twelve = try await Self.harness(certificates, minVersion: "1.2")
        try await twelve.withServer { port in
            let old = try Self.curl(["--cacert", certificates.caFile, "--tlsv1.1", "--tls-max", "1.1", "-o", "/dev/null",
                                     "https://localhost:\(port)/open/x"])
            #expect(old.status != 0, "TLS 1.1 refused")
            let current = try Self.curl(["--cacert", certificates.caFile, "--tlsv1.2", "--tls-max", "1.2", "-w", "%{http_code}", "-o", "/dev/null",
                                         "https://localhost:\(port)/open/x"])
            #expect(current.output == "200", "\(current)")
        }
        await twelve.close()
        let thirteen = try await Self.harness(certificates, minVersion: "1.3")
        try await thirteen.withServer { port in
            let twelveClient = try Self.curl(["--cacert", certificates.caFile, "--tlsv1.2", "--tls-max", "1.2", "-o", "/dev/null",
                                              "https://localhost:\(port)/open/x"])
            #expect(twelveClient.status != 0, "TLS 1.2 refused when min_version is 1.3")
            let thirteenClient = try Self.curl(["--cacert", certificates.caFile, "--tlsv1.3", "-w", "%{http_code}", "-o", "/dev/null",
                                                "https://localhost:\(port)/open/x"])
            #expect(thirteenClient.output == "200", "\(thirteenClient)")
        }
        await thirteen.close()
    }

    @Test("A missing or broken certificate file refuses the start, naming the file")
    func badCertificate() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("apps"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let broken = folder.appendingPathComponent("broken.pem").path
        try "not a certificate".write(toFile: broken, atomically: true, encoding: .utf8)
        for (cert, expected) in [("/nonexistent/gateway.pem", "/nonexistent/gateway.pem"), (broken, "broken.pem")] {
            let config = folder.appendingPathComponent("tyk.conf")
            try #"{"listen_port": 0, "secret": "s", "app_path": "\#(folder.path)/apps", "http_server_options": {"use_ssl": true, "certificates": [{"domain_name": "localhost", "cert_file": "\#(cert)", "key_file": "\#(cert)"}]}}"#
                .write(to: config, atomically: true, encoding: .utf8)
            let result = try await CommandLineTool.run(["serve", "--config", config.path], timeout: 30)
            #expect(result.status != 0)
            #expect(result.stderr.contains(expected), "\(result.stderr)")
        }
    }
}
