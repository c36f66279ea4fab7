import Foundation
import PortcullisScenarios

/// A throw-away certificate authority made with the `openssl` command: a
/// CA, a server certificate for 127.0.0.1 / localhost signed by it, and a
/// client certificate signed by it, as PEM files in a temporary folder.
public final class TestCertificates: @unchecked Sendable {
    public let folder: URL
    public var caFile: String { folder.appendingPathComponent("ca.crt").path }
    public var serverCert: String { folder.appendingPathComponent("server.crt").path }
    public var serverKey: String { folder.appendingPathComponent("server.key").path }
    public var clientCert: String { folder.appendingPathComponent("client.crt").path }
    public var clientKey: String { folder.appendingPathComponent("client.key").path }

    public init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("portcullis-ca-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let ext = folder.appendingPathComponent("server.ext").path
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(toFile: ext, atomically: true, encoding: .utf8)
        try run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", path("ca.key"), "-out", caFile, "-days", "2", "-subj", "/CN=Portcullis Test CA"])
        for (name, subject, extensions) in [("server", "/CN=127.0.0.1", ext), ("client", "/CN=portcullis-gateway", nil)] {
            try run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", path("\(name).key"), "-out", path("\(name).csr"), "-subj", subject])
            var sign = ["x509", "-req", "-in", path("\(name).csr"), "-CA", caFile, "-CAkey", path("ca.key"), "-CAcreateserial",
                        "-out", path("\(name).crt"), "-days", "2"]
            if let extensions { sign += ["-extfile", extensions] }
            try run(sign)
        }
    }

    deinit {
        try? FileManager.default.removeItem(at: folder)
    }

    /// Another server certificate from this CA, for `dns` names.
    public func issue(_ name: String, dns: [String]) throws -> (cert: String, key: String) {
        let ext = path("\(name).ext")
        try ("subjectAltName=" + dns.map { "DNS:\($0)" }.joined(separator: ",") + "\n").write(toFile: ext, atomically: true, encoding: .utf8)
        try run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", path("\(name).key"), "-out", path("\(name).csr"), "-subj", "/CN=\(dns[0])"])
        try run(["x509", "-req", "-in", path("\(name).csr"), "-CA", caFile, "-CAkey", path("ca.key"), "-CAcreateserial",
                 "-out", path("\(name).crt"), "-days", "2", "-extfile", ext])
        return (path("\(name).crt"), path("\(name).key"))
    }

    private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    private func run(_ arguments: [String]) throws {
        guard try ToolRun.output("openssl", arguments).status == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "openssl \(arguments.first ?? "") failed"])
        }
    }
}
