import CJavaScriptCore

/// `TykStorageGet/Set/SetNX/Del/TTL/Incr`: a small key-value store for
/// plugins. Every failure throws a catchable JS exception, as in Tyk's goja
/// driver; keys are 1–256 bytes and values at most 64 KiB.
enum TykStorageBindings {
    static let maxKeyBytes = 256
    static let maxValueBytes = 64 * 1024

    static func install(_ context: JSGlobalContextRef, scope: CallScope, arg: @escaping TykBindings.ArgumentReader) {
        func store(_ binding: String) throws -> any PluginStorage {
            guard let storage = try scope.requireHost(binding).storage else {
                throw NativeFunctionError("\(binding): this gateway has no plugin storage configured")
            }
            return storage
        }
        func key(_ binding: String, _ context: JSContextRef, _ arguments: NativeArguments) throws -> String {
            guard !arguments.isEmpty, !JSBridge.isNullish(context, arguments[0]) else {
                throw NativeFunctionError("\(binding): a key is required", name: "TypeError")
            }
            let key = arg(context, arguments, 0)
            guard (1...maxKeyBytes).contains(key.utf8.count) else {
                throw NativeFunctionError("\(binding): key must be 1 to \(maxKeyBytes) bytes, got \(key.utf8.count)", name: "RangeError")
            }
            return key
        }
        func value(_ binding: String, _ context: JSContextRef, _ arguments: NativeArguments) throws -> String {
            let value = arg(context, arguments, 1)
            guard value.utf8.count <= maxValueBytes else {
                throw NativeFunctionError("\(binding): value is \(value.utf8.count) bytes; the limit is \(maxValueBytes)", name: "RangeError")
            }
            return value
        }
        func ttl(_ context: JSContextRef, _ arguments: NativeArguments, _ index: Int) throws -> Int64 {
            guard index < arguments.count, !JSBridge.isNullish(context, arguments[index]) else { return 0 }
            let number = JSValueToNumber(context, arguments[index], nil)
            guard number.isFinite, number >= 0, number < 1e12 else {
                throw NativeFunctionError("TTL must be a non-negative number of seconds", name: "RangeError")
            }
            return Int64(number)
        }
        func wrap<T: Sendable>(_ binding: String, _ work: @escaping @Sendable () async throws -> T) throws -> T {
            do {
                return try scope.block(on: .store, work)
            } catch let error as NativeFunctionError {
                throw error
            } catch {
                throw NativeFunctionError("\(binding) failed: \(error)")
            }
        }

        NativeFunction.install(context, name: "TykStorageGet") { context, arguments in
            let storage = try store("TykStorageGet")
            let k = try key("TykStorageGet", context, arguments)
            guard let found = try wrap("TykStorageGet", { try await storage.get(k) }) else { return JSValueMakeNull(context) }
            return JSBridge.makeString(context, found)
        }
        NativeFunction.install(context, name: "TykStorageSet") { context, arguments in
            let storage = try store("TykStorageSet")
            let k = try key("TykStorageSet", context, arguments)
            let v = try value("TykStorageSet", context, arguments)
            let seconds = try ttl(context, arguments, 2)
            try wrap("TykStorageSet") { try await storage.set(k, value: v, ttlSeconds: seconds) }
            return nil
        }
        NativeFunction.install(context, name: "TykStorageSetNX") { context, arguments in
            let storage = try store("TykStorageSetNX")
            let k = try key("TykStorageSetNX", context, arguments)
            let v = try value("TykStorageSetNX", context, arguments)
            let seconds = try ttl(context, arguments, 2)
            let stored = try wrap("TykStorageSetNX") { try await storage.setIfAbsent(k, value: v, ttlSeconds: seconds) }
            return JSValueMakeBoolean(context, stored)
        }
        NativeFunction.install(context, name: "TykStorageDel") { context, arguments in
            let storage = try store("TykStorageDel")
            let k = try key("TykStorageDel", context, arguments)
            let removed = try wrap("TykStorageDel") { try await storage.delete(k) }
            return JSValueMakeNumber(context, Double(removed))
        }
        NativeFunction.install(context, name: "TykStorageTTL") { context, arguments in
            let storage = try store("TykStorageTTL")
            let k = try key("TykStorageTTL", context, arguments)
            let remaining = try wrap("TykStorageTTL") { try await storage.ttl(k) }
            return JSValueMakeNumber(context, Double(remaining))
        }
        NativeFunction.install(context, name: "TykStorageIncr") { context, arguments in
            let storage = try store("TykStorageIncr")
            let k = try key("TykStorageIncr", context, arguments)
            let seconds = try ttl(context, arguments, 1)
            let next = try wrap("TykStorageIncr") { try await storage.increment(k, ttlSeconds: seconds) }
            return JSBridge.makeString(context, String(next))
        }
    }
}
