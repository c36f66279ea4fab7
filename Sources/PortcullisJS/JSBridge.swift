import CJavaScriptCore

/// Conversions between Swift strings and JavaScriptCore values, used only on
/// a worker thread that owns the context.
enum JSBridge {
    /// Creates a retained JSC string from UTF-16 code units; the caller releases it.
    static func makeJSString(_ string: String) -> JSStringRef {
        // UTF-8 straight from the string's storage; JSC keeps ASCII text as
        // 8-bit characters. Text with a NUL would be cut at it, so it (and
        // only it) goes through UTF-16.
        if !ByteScan.containsNUL(string) {
            return string.withCString { JSStringCreateWithUTF8CString($0) }
        }
        let units = Array(string.utf16)
        return units.withUnsafeBufferPointer { buffer in
            JSStringCreateWithCharacters(buffer.baseAddress, buffer.count)
        }
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
