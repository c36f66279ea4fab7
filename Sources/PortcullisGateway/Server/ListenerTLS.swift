import Foundation
import NIOCore
import NIOSSL

/// The TLS context of the gateway's listeners: the certificates of
/// `http_server_options.certificates`, read once at start, with the one
/// whose `domain_name` matches the client's SNI name served to it (the
/// first one otherwise), and `min_version` as the oldest version accepted.
enum ListenerTLS {
    /// Builds the context; a certificate or key that cannot be read or used
    /// refuses the start, naming the file.
    static func makeContext(_ settings: ListenerTLSConfig) throws -> NIOSSLContext {
        let loaded = try settings.certificates.map { entry -> (domain: String, chain: [NIOSSLCertificateSource], key: NIOSSLPrivateKeySource) in
            let chain = try read(entry.certFile) { try NIOSSLCertificate.fromPEMFile($0) }
            guard !chain.isEmpty else { throw ConfigError.unreadable(file: entry.certFile, reason: "holds no PEM certificate (http_server_options.certificates)") }
            let key = try read(entry.keyFile) { try NIOSSLPrivateKey(file: $0, format: .pem) }
            return (entry.domainName.lowercased(), chain.map { .certificate($0) }, .privateKey(key))
        }
        guard let first = loaded.first else { throw ConfigError.missingField(file: "tyk.conf", field: "http_server_options.certificates") }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: first.chain, privateKey: first.key)
        tls.minimumTLSVersion = version(settings.minVersion)
        if loaded.count > 1 {
            tls.sslContextCallback = { values, promise in
                let name = values.serverHostname?.lowercased() ?? ""
                guard let match = loaded.first(where: { matches($0.domain, name) }) else {
                    promise.succeed(.noChanges)
                    return
                }
                var override = NIOSSLContextConfigurationOverride()
                override.certificateChain = match.chain
                override.privateKey = match.key
                promise.succeed(override)
            }
        }
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw ConfigError.unreadable(file: settings.certificates.map(\.certFile).joined(separator: ", "),
                                         reason: "the certificates and keys do not make a TLS context: \(error)")
        }
    }

    /// `*.example.com` matches one label in front of `example.com`.
    static func matches(_ domain: String, _ name: String) -> Bool {
        guard !domain.isEmpty, !name.isEmpty else { return false }
        if domain.hasPrefix("*.") {
            let suffix = domain.dropFirst(1)
            return name.hasSuffix(suffix) && !name.dropLast(suffix.count).contains(".") && name.count > suffix.count
        }
        return domain == name
    }

    private static func version(_ text: String) -> TLSVersion {
        switch text {
        case "1.0": return .tlsv1
        case "1.1": return .tlsv11
        case "1.3": return .tlsv13
        default: return .tlsv12
        }
    }

    private static func read<T>(_ file: String, _ load: (String) throws -> T) throws -> T {
        guard FileManager.default.isReadableFile(atPath: file) else {
            throw ConfigError.unreadable(file: file, reason: "no such file or not readable (http_server_options.certificates)")
        }
        do {
            return try load(file)
        } catch {
            throw ConfigError.unreadable(file: file, reason: "not a PEM file NIOSSL can read (http_server_options.certificates): \(error)")
        }
    }
}
