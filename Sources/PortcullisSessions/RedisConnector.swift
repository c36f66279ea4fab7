import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// Opens channels to Redis servers as the configuration says: over TLS
/// when `use_ssl` is on (one TLS context, built once from the files), with
/// the RESP handlers the caller adds, and finds the address of the primary
/// through ``RedisPrimaryLocator``. The pool, the pub/sub connection and
/// the sentinel watcher all connect through it, so they agree on TLS, on
/// credentials and on where the primary is.
final class RedisConnector: Sendable {
    let configuration: RedisConfiguration
    let group: EventLoopGroup
    let locator: RedisPrimaryLocator
    private let tls: Result<NIOSSLContext, SessionStoreError>?

    init(configuration: RedisConfiguration, group: EventLoopGroup, logger: Logger) {
        self.configuration = configuration
        self.group = group
        self.tls = configuration.tls.map { settings in Result { try Self.makeTLSContext(settings) }.mapError(Self.settingsError) }
        self.locator = RedisPrimaryLocator(configuration: configuration, logger: logger)
        locator.attach(self)
    }

    /// The TLS context, or why the TLS files cannot be used.
    func checkTLS() throws {
        if case .failure(let error)? = tls { throw error }
    }

    /// A channel to `address` with `handlers` after TLS, or the reason it failed.
    func channel(to address: RedisAddress, handlers: @escaping @Sendable (Channel) throws -> Void) -> EventLoopFuture<Channel> {
        let context: NIOSSLContext?
        switch tls {
        case .failure(let error)?: return group.next().makeFailedFuture(error)
        case .success(let built)?: context = built
        case nil: context = nil
        }
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.milliseconds(Int64(configuration.connectTimeout * 1000)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let context {
                        let name = Self.isIPAddress(address.host) ? nil : address.host
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: name))
                    }
                    try handlers(channel)
                }
            }
        return bootstrap.connect(host: address.host, port: address.port).flatMapErrorThrowing { error in
            throw SessionStoreError.unavailable(reason: "cannot connect to \(address): \(error)")
        }
    }

    /// `AUTH` for the primary: `AUTH user password` with an ACL user.
    var primaryAuth: [String]? {
        guard !configuration.password.isEmpty else { return nil }
        return configuration.username.isEmpty ? ["AUTH", configuration.password] : ["AUTH", configuration.username, configuration.password]
    }

    /// The commands every command connection to the primary starts with:
    /// `AUTH` when a password is set, `SELECT` for a database other than 0.
    var primaryHandshake: [[String]] {
        var steps: [[String]] = []
        if let auth = primaryAuth { steps.append(auth) }
        if configuration.database != 0 { steps.append(["SELECT", String(configuration.database)]) }
        return steps
    }

    /// Checks a `ROLE` reply from `address`: it must name the primary
    /// (`master`); a replica or a garbled answer throws.
    static func checkPrimaryRole(_ reply: RESPValue, of address: RedisAddress) throws {
        if case .error(let message) = reply { throw handshakeError("ROLE", message, sentinel: false) }
        guard case .array(let items?) = reply, let role = items.first?.text else {
            throw SessionStoreError.badReply(command: "ROLE", reason: "expected the role, got \(reply.summary)")
        }
        guard role == "master" else {
            throw SessionStoreError.unavailable(reason: "\(address) is a \(role), not the primary; asking the sentinels again")
        }
    }

    /// A reply to `AUTH` or `SELECT` that refuses the settings, as a
    /// ``SessionStoreError/misconfigured(setting:reason:)`` naming the field.
    static func handshakeError(_ command: String, _ message: String, sentinel: Bool) -> SessionStoreError {
        let upper = message.uppercased()
        if command == "AUTH" || upper.hasPrefix("NOAUTH") || upper.hasPrefix("WRONGPASS") || upper.contains("NOPERM") {
            let setting = sentinel ? "storage.sentinel_password" : "storage.username / storage.password"
            return .misconfigured(setting: setting, reason: "Redis refused the credentials: \(message)")
        }
        if command == "SELECT" {
            return .misconfigured(setting: "storage.database", reason: "Redis refused the database: \(message)")
        }
        return .serverError(command: command, message: message)
    }

    private static func makeTLSContext(_ settings: RedisTLSSettings) throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        if settings.insecureSkipVerify { tls.certificateVerification = .none }
        if !settings.caFile.isEmpty {
            let roots = try load("storage.ca_file", settings.caFile) { try NIOSSLCertificate.fromPEMFile($0) }
            guard !roots.isEmpty else { throw TLSFileProblem(setting: "storage.ca_file", file: settings.caFile, reason: "holds no PEM certificate") }
            tls.trustRoots = .certificates(roots)
        }
        if !settings.certFile.isEmpty || !settings.keyFile.isEmpty {
            guard !settings.certFile.isEmpty, !settings.keyFile.isEmpty else {
                throw TLSFileProblem(setting: settings.certFile.isEmpty ? "storage.cert_file" : "storage.key_file",
                                     file: "", reason: "a client certificate needs both cert_file and key_file")
            }
            let chain = try load("storage.cert_file", settings.certFile) { try NIOSSLCertificate.fromPEMFile($0) }
            let key = try load("storage.key_file", settings.keyFile) { try NIOSSLPrivateKey(file: $0, format: .pem) }
            tls.certificateChain = chain.map { .certificate($0) }
            tls.privateKey = .privateKey(key)
        }
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw TLSFileProblem(setting: "storage.use_ssl", file: "", reason: "the TLS settings cannot be used: \(error)")
        }
    }

    private static func load<T>(_ setting: String, _ file: String, _ read: (String) throws -> T) throws -> T {
        guard FileManager.default.isReadableFile(atPath: file) else {
            throw TLSFileProblem(setting: setting, file: file, reason: "no such file or not readable")
        }
        do {
            return try read(file)
        } catch {
            throw TLSFileProblem(setting: setting, file: file, reason: "not a PEM file NIOSSL can read: \(error)")
        }
    }

    private struct TLSFileProblem: Error {
        let setting: String
        let file: String
        let reason: String
    }

    private static func settingsError(_ error: any Error) -> SessionStoreError {
        guard let problem = error as? TLSFileProblem else { return .misconfigured(setting: "storage.use_ssl", reason: "\(error)") }
        return .misconfigured(setting: problem.setting, reason: problem.file.isEmpty ? problem.reason : "\(problem.file): \(problem.reason)")
    }

    private static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}

/// One server address.
struct RedisAddress: Sendable, Equatable, CustomStringConvertible {
    var host: String
    var port: Int
    var description: String { "\(host):\(port)" }
}
