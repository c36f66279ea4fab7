import CJavaScriptCore

/// The last text a binding handed to one realm, kept as a JS string.
///
/// A client's requests read the same rendering of its session again and
/// again (`TykGetKeyData` on every request), and JS strings cannot change,
/// so the value made for the first read serves the next ones: making a
/// string of a 900-byte session costs about 2 µs, comparing the text
/// nothing when it is the same rendering. Used only on the worker thread
/// that owns the realm.
final class ReusedJSString {
    private var text: String?
    private var value: JSValueRef?

    /// `text` as a JS string: the kept one when the text is the same.
    func value(for text: String, in context: JSContextRef) -> JSValueRef? {
        if let value, self.text == text { return value }
        // Made once, read (and usually parsed) again and again: the compact
        // form parses faster.
        guard let made = JSBridge.makeCompactString(context, text) else { return nil }
        // Kept from the collector until it is replaced; the realm's context
        // group takes it with everything else when the realm goes.
        JSValueProtect(context, made)
        if let value { JSValueUnprotect(context, value) }
        self.text = text
        value = made
        return made
    }
}
