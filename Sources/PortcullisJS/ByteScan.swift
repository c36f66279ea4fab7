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

    /// Whether the string needs escaping inside a JSON string literal: a
    /// control character, a quote or a backslash.
    static func needsJSONEscape(_ string: String) -> Bool {
        if let found = string.utf8.withContiguousStorageIfAvailable({ bytes -> Bool in
            var flagged = false
            for byte in bytes {
                flagged = flagged || byte < 0x20 || byte == 0x22 || byte == 0x5C
            }
            return flagged
        }) {
            return found
        }
        return string.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C })
    }
}
