import Crypto
import Foundation

/// The hash algorithms Tyk accepts for `hash_key_function`. Output is always
/// lowercase hex of the big-endian digest, as Tyk writes it.
public enum KeyHashFunction: String, Sendable, CaseIterable {
    /// MurmurHash3 x86 32-bit: Tyk's default for legacy and custom keys.
    case murmur32
    /// The first 64 bits of MurmurHash3 x64 128-bit.
    case murmur64
    /// MurmurHash3 x64 128-bit.
    case murmur128
    /// SHA-256.
    case sha256

    /// Parses a `hash_key_function` value; empty means murmur32 (Tyk's default).
    /// Returns nil for an unknown name so configuration can report it.
    public init?(configName: String) {
        if configName.isEmpty {
            self = .murmur32
        } else if let known = KeyHashFunction(rawValue: configName.lowercased()) {
            self = known
        } else {
            return nil
        }
    }

    /// The lowercase hex digest of the UTF-8 bytes of `text`.
    public func hexDigest(_ text: String) -> String {
        let bytes = Array(text.utf8)
        switch self {
        case .murmur32:
            return hex(MurmurHash3.x86_32(bytes), width: 8)
        case .murmur64:
            return hex(MurmurHash3.x64_128(bytes).0, width: 16)
        case .murmur128:
            let (h1, h2) = MurmurHash3.x64_128(bytes)
            return hex(h1, width: 16) + hex(h2, width: 16)
        case .sha256:
            return SHA256.hash(data: Data(bytes)).map { hex($0, width: 2) }.joined()
        }
    }

    private func hex<T: BinaryInteger>(_ value: T, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
