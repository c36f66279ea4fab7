import CJavaScriptCore

/// A Swift closure callable from JavaScript. Thrown ``NativeFunctionError``s
/// become JS exceptions the plugin can catch.
typealias NativeFunctionBody = (_ context: JSContextRef, _ arguments: NativeArguments) throws -> JSValueRef?

/// The arguments of one call into a binding, read in place from the
/// engine's buffer: valid only until the binding returns.
typealias NativeArguments = UnsafeBufferPointer<JSValueRef?>

/// An error a binding throws into JavaScript.
struct NativeFunctionError: Error {
    /// JS error constructor name (`Error`, `TypeError`).
    var name: String
    /// The message the plugin sees.
    var message: String

    init(_ message: String, name: String = "Error") {
        self.name = name
        self.message = message
    }
}

/// Owns the closure while the JS function object is alive.
private final class NativeFunctionBox {
    let body: NativeFunctionBody
    init(_ body: @escaping NativeFunctionBody) { self.body = body }
}

private let nativeCall: JSObjectCallAsFunctionCallback = { context, function, _, count, arguments, exception in
    guard let context, let function, let raw = JSObjectGetPrivate(function) else { return nil }
    let box = Unmanaged<NativeFunctionBox>.fromOpaque(raw).takeUnretainedValue()
    let values = NativeArguments(start: count > 0 ? arguments : nil, count: arguments == nil ? 0 : count)
    do {
        return try box.body(context, values) ?? JSValueMakeUndefined(context)
    } catch let error as NativeFunctionError {
        exception?.pointee = JSBridge.makeError(context, error.message, name: error.name)
        return nil
    } catch {
        exception?.pointee = JSBridge.makeError(context, String(describing: error))
        return nil
    }
}

private let nativeFinalize: JSObjectFinalizeCallback = { object in
    guard let raw = JSObjectGetPrivate(object) else { return }
    Unmanaged<NativeFunctionBox>.fromOpaque(raw).release()
}

/// The single JSC class behind every native binding: the closure is the
/// object's private data, which is several times cheaper per call than the
/// GLib `jsc_*` API and keeps one class for all bindings.
enum NativeFunction {
    nonisolated(unsafe) private static let functionClass: JSClassRef? = {
        var definition = kJSClassDefinitionEmpty
        definition.callAsFunction = nativeCall
        definition.finalize = nativeFinalize
        return JSClassCreate(&definition)
    }()

    /// Makes a JS function object that runs `body`.
    static func make(_ context: JSContextRef, _ body: @escaping NativeFunctionBody) -> JSObjectRef? {
        let box = Unmanaged.passRetained(NativeFunctionBox(body)).toOpaque()
        return JSObjectMake(context, functionClass, box)
    }

    /// Installs `body` as a global function called `name`.
    static func install(_ context: JSGlobalContextRef, name: String, _ body: @escaping NativeFunctionBody) {
        let function = make(context, body)
        JSBridge.setProperty(context, JSContextGetGlobalObject(context), name, function)
    }
}
