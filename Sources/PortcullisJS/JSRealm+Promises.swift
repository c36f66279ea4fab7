import CJavaScriptCore
import Foundation

/// Async handlers (an extension): a handler may return a Promise. The
/// worker keeps the call open, handing each finished `fetch()` to
/// JavaScript, until the Promise settles or the plugin's time limit
/// (`jsvm_timeout`, for the whole call) runs out. JavaScriptCore runs
/// pending Promise reactions each time a call into it returns, so every
/// delivery lets the handler's code run up to its next `await`.
extension JSRealm {
    func isThenable(_ value: JSValueRef) -> Bool {
        guard JSValueIsObject(context, value), let then = JSBridge.property(context, value, "then") else { return false }
        return JSValueIsObject(context, then) && JSObjectIsFunction(context, JSValueToObject(context, then, nil))
    }

    /// Waits for `promise`; returns its value, or sets `exception` to its
    /// rejection so the caller reports it as a thrown error.
    func settle(_ promise: JSValueRef, handlerName: String, limitSeconds: Double,
                exception: inout JSValueRef?) throws -> JSValueRef? {
        let deadline = Date().addingTimeInterval(limitSeconds)
        guard let box = try callGlobal("__portcullisWatch", [promise], exception: &exception) else { return nil }
        JSValueProtect(context, box)
        defer { JSValueUnprotect(context, box) }
        while true {
            switch JSBridge.toString(context, JSBridge.property(context, box, "state")) {
            case "ok":
                return JSBridge.property(context, box, "value")
            case "error":
                exception = JSBridge.property(context, box, "error")
                return nil
            default:
                break
            }
            guard let fetches = scope.current?.fetches, fetches.outstanding > 0 else {
                throw PluginError.invalidReturn(handler: handlerName, reason:
                    "the handler returned a Promise that never settled; a handler may only wait for fetch() and Promises built on it")
            }
            let remaining = deadline.timeIntervalSinceNow
            scope.activity.enterWait(.outbound)
            let next = remaining > 0 ? fetches.next(within: remaining) : nil
            scope.activity.leaveWait(.outbound)
            guard let done = next else {
                scope.activity.callTimedOut()
                throw PluginError.timedOut(handler: handlerName, limitSeconds: limitSeconds)
            }
            let ok: Bool
            let payload: String
            switch done.result {
            case .success(let json): (ok, payload) = (true, json)
            case .failure(let failure):
                (ok, payload) = (false, failure.message)
                scope.record(PluginLogLine(kind: .warning, message: "fetch failed: \(failure.message)"))
            }
            let arguments = [JSValueMakeNumber(context, Double(done.id)), JSValueMakeBoolean(context, ok),
                             JSBridge.makeString(context, payload)]
            _ = try callGlobal("__portcullisDeliver", arguments, exception: &exception)
            if exception != nil { return nil }
        }
    }

    private func callGlobal(_ name: String, _ arguments: [JSValueRef?], exception: inout JSValueRef?) throws -> JSValueRef? {
        guard let value = JSBridge.property(context, JSContextGetGlobalObject(context), name), JSValueIsObject(context, value),
              let function = JSValueToObject(context, value, nil) else {
            throw PluginError.invalidReturn(handler: name, reason: "internal error: the prelude's \(name) is missing")
        }
        timeout.reset()
        var arguments = arguments
        return arguments.withUnsafeMutableBufferPointer { buffer in
            JSObjectCallAsFunction(context, function, nil, buffer.count, buffer.baseAddress, &exception)
        }
    }
}
