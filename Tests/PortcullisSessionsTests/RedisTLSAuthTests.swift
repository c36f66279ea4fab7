import Foundation
import PortcullisCore
@testable import PortcullisSessions
import PortcullisTestSupport
import Testing

/// TLS, passwords, ACL users and database numbers against real
/// redis-server processes: what works connects, what cannot work is
/// refused at `verify()` with the setting named.
@Suite("Redis TLS and auth", .serialized)
struct RedisTLSAuthTests {
    /// A TLS-only redis-server that requires a password and client certificates.
    static func tlsServer(_ certificates: TestCertificates) throws -> RedisProcess {
        let port = try LocalRedisServer.freePort()
        return try RedisProcess(arguments: [
            "--port", "0", "--tls-port", String(port), "--tls-cert-file", certificates.serverCert, "--tls-key-file", certificates.serverKey,
            "--tls-ca-cert-file", certificates.caFile, "--tls-auth-clients", "yes", "--requirepass", "s3cret",
        ], port: port)
    }

    static func store(_ port: Int, tls: RedisTLSSettings?, username: String = "", password: String = "", database: Int = 0) -> RedisStore {
        RedisStore(configuration: RedisConfiguration(port: port, username: username, password: password, database: database,
                                                     commandTimeout: 2, connectTimeout: 2, tls: tls))
    }

    static func refusal(_ store: RedisStore) async -> SessionStoreError? {
        do {
            try await store.verify()
            return nil
        } catch let error as SessionStoreError {
            return error
        } catch {
            Issue.record("not a SessionStoreError: \(error)")
            return nil
        }
    }

    @Test("TLS with a CA, a client certificate and a password: commands and pub/sub work; a wrong password is refused naming the setting")
    func tlsWithClientCertificate() async throws {
        let certificates = try TestCertificates()
        let server = try Self.tlsServer(certificates)
        let tls = RedisTLSSettings(caFile: certificates.caFile, certFile: certificates.clientCert, keyFile: certificates.clientKey)
        let store = Self.store(server.port, tls: tls, password: "s3cret")
        try await store.verify()
        try await store.setValue("over tls", forKey: "tls-probe", ttlSeconds: 60)
        #expect(try await store.value(forKey: "tls-probe") == "over tls")
        let received = Locked<[String]>([])
        let subscribed = Locked(false)
        let subscription = try await store.subscribe(channel: "tls-channel") { event in
            switch event {
            case .message(let text): received.withLock { $0.append(text) }
            case .subscribed: subscribed.value = true
            default: break
            }
        }
        for _ in 0..<100 where !subscribed.value { try await Task.sleep(for: .milliseconds(20)) }
        #expect(try await store.publish(channel: "tls-channel", message: "hello") == 1)
        for _ in 0..<100 where received.value.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        #expect(received.value == ["hello"])
        subscription.cancel()
        await store.shutdown()

        let wrong = Self.store(server.port, tls: tls, password: "guess")
        guard case .misconfigured(let setting, let reason)? = await Self.refusal(wrong) else {
            Issue.record("a wrong password must be refused as a setting")
            return
        }
        #expect(setting.contains("storage.password") && reason.contains("WRONGPASS"), "\(setting): \(reason)")
        await wrong.shutdown()
    }

    @Test("TLS without the client certificate, or with a CA that did not sign the server, does not connect; skip-verify trusts any server")
    func tlsTrust() async throws {
        let certificates = try TestCertificates()
        let other = try TestCertificates()
        let server = try Self.tlsServer(certificates)
        let noClientCert = Self.store(server.port, tls: RedisTLSSettings(caFile: certificates.caFile), password: "s3cret")
        #expect(await Self.refusal(noClientCert) != nil, "the server requires a client certificate")
        await noClientCert.shutdown()
        let wrongCA = Self.store(server.port, tls: RedisTLSSettings(caFile: other.caFile, certFile: certificates.clientCert,
                                                                   keyFile: certificates.clientKey), password: "s3cret")
        #expect(await Self.refusal(wrongCA) != nil, "a server certificate from another CA is not trusted")
        await wrongCA.shutdown()
        let skipping = Self.store(server.port, tls: RedisTLSSettings(certFile: certificates.clientCert, keyFile: certificates.clientKey,
                                                                    insecureSkipVerify: true), password: "s3cret")
        try await skipping.verify()
        await skipping.shutdown()
        let plain = Self.store(server.port, tls: nil, password: "s3cret")
        #expect(await Self.refusal(plain) != nil, "plain TCP to a TLS port fails")
        await plain.shutdown()
    }

    @Test("A TLS file that is missing or not PEM is refused naming the field and the file")
    func badTLSFiles() async throws {
        let certificates = try TestCertificates()
        let notPEM = certificates.folder.appendingPathComponent("garbage.pem").path
        try "not a certificate".write(toFile: notPEM, atomically: true, encoding: .utf8)
        let cases: [(RedisTLSSettings, String, String)] = [
            (RedisTLSSettings(caFile: "/nonexistent/ca.pem"), "storage.ca_file", "/nonexistent/ca.pem"),
            (RedisTLSSettings(caFile: notPEM), "storage.ca_file", "garbage.pem"),
            (RedisTLSSettings(certFile: certificates.clientCert), "storage.key_file", "needs both"),
            (RedisTLSSettings(certFile: certificates.clientCert, keyFile: notPEM), "storage.key_file", "garbage.pem"),
        ]
        for (tls, field, detail) in cases {
            let store = Self.store(1, tls: tls)
            guard case .misconfigured(let setting, let reason)? = await Self.refusal(store) else {
                Issue.record("\(field) should be refused")
                continue
            }
            #expect(setting == field && reason.contains(detail), "\(setting): \(reason)")
            await store.shutdown()
        }
    }

    @Test("An ACL user with its password works; a wrong user is refused; the database number is selected")
    func aclUserAndDatabase() async throws {
        let server = try RedisProcess()
        _ = try server.cli(["ACL", "SETUSER", "gateway", "on", ">gateway-pw", "~*", "&*", "+@all"])
        let store = Self.store(server.port, tls: nil, username: "gateway", password: "gateway-pw", database: 3)
        try await store.verify()
        try await store.setValue("in three", forKey: "db-probe", ttlSeconds: 60)
        #expect(try server.cli(["-n", "3", "GET", "db-probe"]) == "in three")
        #expect(try server.cli(["-n", "0", "GET", "db-probe"]).isEmpty)
        await store.shutdown()
        let stranger = Self.store(server.port, tls: nil, username: "nobody", password: "gateway-pw")
        guard case .misconfigured(let setting, _)? = await Self.refusal(stranger) else {
            Issue.record("an unknown ACL user must be refused as a setting")
            return
        }
        #expect(setting.contains("storage.username"))
        await stranger.shutdown()
    }
}
