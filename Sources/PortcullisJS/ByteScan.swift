import Foundation

/// Byte tests over a string's UTF-8 storage in place, for the per-call
/// marshalling paths where iterating `String.UTF8View` element by element
/// showed up in profiles.
enum ByteScan {
    /// Whether the string holds a NUL byte (which a C string would cut at).
    static func containsNUL(_ string: String) -> Bool {
        if let found = string.utf8.withContiguousStorageIfAvailable({ bytes -> Bool in
            guard let base = bytes.baseAddress, bytes.count > 0 else { return false }
            return memchr(base, 0, bytes.count) != nil
        }) {
            return found
        }
        return string.utf8.contains(0)
    }
}
