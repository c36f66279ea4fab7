import CJavaScriptCore

/// Conversions between Swift strings and JavaScriptCore values, used only on
/// a worker thread that owns the context.
enum JSBridge {
    /// Creates a retained JSC string from a Swift string; the caller releases it.
    static func makeJSString(_ string: String) -> JSStringRef {
        // ASCII (nearly all plugin text: JSON, headers, keys) is widened
        // here in one pass: JSC's own UTF-8 decoding of the same text costs
        // several times as much (597 bytes of request JSON: 0.6 against
        // 3.1 µs). Other text goes as UTF-8 straight from the string's
        // storage, except text with a NUL, which a C string would cut at.
        if let ascii = asciiJSString(string) { return ascii }
        if !ByteScan.containsNUL(string) {
            return string.withCString { JSStringCreateWithUTF8CString($0) }
        }
        let units = Array(string.utf16)
        return units.withUnsafeBufferPointer { buffer in
            JSStringCreateWithCharacters(buffer.baseAddress, buffer.count)
        }
    }

    /// The string as 16-bit code units when it is all ASCII; nil otherwise
    /// (or when its storage is not contiguous UTF-8).
    private static func asciiJSString(_ string: String) -> JSStringRef? {
        let made = string.utf8.withContiguousStorageIfAvailable { bytes -> JSStringRef? in
            let count = bytes.count
            guard count > 0 else { return nil }
            return withUnsafeTemporaryAllocation(of: JSChar.self, capacity: count) { units -> JSStringRef? in
                var seen: UInt8 = 0
                for index in 0..<count {
                    let byte = bytes[index]
                    seen |= byte
                    units[index] = JSChar(byte)
                }
                guard seen < 0x80 else { return nil }
                return JSStringCreateWithCharacters(units.baseAddress, count)
            }
        }
        return made ?? nil
    }

    /// `string` as a JS string stored one byte per character when it is
    /// all ASCII. Making it costs several times what ``makeString(_:_:)``
    /// does, but `JSON.parse` reads such a string faster; worth it for text
    /// that is made once and parsed again and again.
    static func makeCompactString(_ context: JSContextRef, _ string: String) -> JSValueRef? {
        guard !ByteScan.containsNUL(string) else { return makeString(context, string) }
        let jsString = string.withCString { JSStringCreateWithUTF8CString($0) }
        defer { JSStringRelease(jsString) }
        return JSValueMakeString(context, jsString)
    }

    /// Reads a JSC string into a Swift string (lone surrogates become U+FFFD).
    static func swiftString(_ jsString: JSStringRef) -> String {
        let length = JSStringGetLength(jsString)
        guard length > 0, let characters = JSStringGetCharactersPtr(jsString) else { return "" }
        let units = UnsafeBufferPointer(start: characters, count: length)
        // ASCII (nearly all plugin text: JSON, headers, keys) narrows byte
        // by byte; anything else is transcoded.
        if !units.contains(where: { $0 >= 0x80 }) {
            return String(unsafeUninitializedCapacity: length) { buffer in
                for index in 0..<length { buffer[index] = UInt8(truncatingIfNeeded: units[index]) }
                return length
            }
        }
        return String(decoding: units, as: UTF16.self)
    }

    /// A JS string value holding `string`.
    static func makeString(_ context: JSContextRef, _ string: String) -> JSValueRef? {
        let jsString = makeJSString(string)
        defer { JSStringRelease(jsString) }
        return JSValueMakeString(context, jsString)
    }

    /// `ToString(value)` as JavaScript defines it, or nil when that conversion throws.
    static func toString(_ context: JSContextRef, _ value: JSValueRef?) -> String? {
        guard let value else { return nil }
        var exception: JSValueRef?
        guard let jsString = JSValueToStringCopy(context, value, &exception), exception == nil else { return nil }
        defer { JSStringRelease(jsString) }
        return swiftString(jsString)
    }

    /// Parses JSON text into a JS value, or nil when the text is not JSON.
    static func parseJSON(_ context: JSContextRef, _ json: String) -> JSValueRef? {
        let jsString = makeJSString(json)
        defer { JSStringRelease(jsString) }
        return JSValueMakeFromJSONString(context, jsString)
    }

    /// Reads a named property of an object value; nil if `value` is not an object.
    static func property(_ context: JSContextRef, _ value: JSValueRef?, _ name: String) -> JSValueRef? {
        guard let value, JSValueIsObject(context, value) else { return nil }
        let object = JSValueToObject(context, value, nil)
        let jsName = makeJSString(name)
        defer { JSStringRelease(jsName) }
        return JSObjectGetProperty(context, object, jsName, nil)
    }

    /// Sets a named property on an object.
    static func setProperty(_ context: JSContextRef, _ object: JSObjectRef, _ name: String, _ value: JSValueRef?) {
        let jsName = makeJSString(name)
        defer { JSStringRelease(jsName) }
        JSObjectSetProperty(context, object, jsName, value, JSPropertyAttributes(kJSPropertyAttributeNone), nil)
    }

    /// True when the value is `undefined` or `null`.
    static func isNullish(_ context: JSContextRef, _ value: JSValueRef?) -> Bool {
        guard let value else { return true }
        return JSValueIsUndefined(context, value) || JSValueIsNull(context, value)
    }

    /// A new `Error` object with the given message, for throwing into JS.
    static func makeError(_ context: JSContextRef, _ message: String, name: String = "Error") -> JSValueRef? {
        let text = makeString(context, message)
        JSValueProtect(context, text)
        defer { JSValueUnprotect(context, text) }
        var args: [JSValueRef?] = [text]
        let error = args.withUnsafeMutableBufferPointer { buffer in
            JSObjectMakeError(context, 1, buffer.baseAddress, nil)
        }
        if let error, name != "Error" {
            setProperty(context, error, "name", makeString(context, name))
        }
        return error
    }
}
