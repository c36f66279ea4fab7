import PortcullisCore

/// Reads typed fields out of a parsed JSON object, naming the file and the
/// full field path in every error and remembering which fields were used so
/// the rest can be reported as ignored.
final class ConfigReader {
    let file: String
    let prefix: String
    let object: [String: JSONValue]
    private var used: Set<String> = []
    private var children: [ConfigReader] = []
    /// Set while ``ConfigFieldCatalog`` runs a parser: every field name a
    /// reader is asked for, and every one it acknowledges, is recorded
    /// there with its dotted path.
    @TaskLocal static var fieldRecorder: ConfigFieldRecorder?
    private let recorder = ConfigReader.fieldRecorder

    init(file: String, prefix: String = "", object: [String: JSONValue]) {
        self.file = file
        self.prefix = prefix
        self.object = object
    }

    /// Parses a whole file's text.
    static func parse(_ text: String, file: String) throws -> ConfigReader {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: text)
        } catch {
            throw ConfigError.notJSON(file: file, reason: JSONErrorText.describe(error))
        }
        guard let object = value.objectValue else {
            throw ConfigError.notJSON(file: file, reason: "the top level must be an object, found \(value.typeDescription)")
        }
        return ConfigReader(file: file, object: object)
    }

    func path(_ key: String) -> String { prefix.isEmpty ? key : "\(prefix).\(key)" }

    private func fail(_ key: String, _ reason: String) -> ConfigError {
        .invalidField(file: file, field: path(key), reason: reason)
    }

    /// The raw value, or nil when absent or null.
    func value(_ key: String) -> JSONValue? {
        used.insert(key)
        recorder?.read(path(key))
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    func string(_ key: String) throws -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else { throw fail(key, "must be a string, found \(value.typeDescription)") }
        return text
    }

    func bool(_ key: String) throws -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else { throw fail(key, "must be true or false, found \(value.typeDescription)") }
        return flag
    }

    func int(_ key: String) throws -> Int64? {
        guard let value = value(key) else { return nil }
        switch value {
        case .int(let number): return number
        case .double(let number) where number == number.rounded() && abs(number) < 9e15: return Int64(number)
        default: throw fail(key, "must be a whole number, found \(value.typeDescription)")
        }
    }

    func double(_ key: String) throws -> Double? {
        guard let value = value(key) else { return nil }
        switch value {
        case .int(let number): return Double(number)
        case .double(let number): return number
        default: throw fail(key, "must be a number, found \(value.typeDescription)")
        }
    }

    func object(_ key: String) throws -> ConfigReader? {
        guard let value = value(key) else { return nil }
        guard case .object(let inner) = value else { throw fail(key, "must be an object, found \(value.typeDescription)") }
        let child = ConfigReader(file: file, prefix: path(key), object: inner)
        children.append(child)
        return child
    }

    func array(_ key: String) throws -> [JSONValue]? {
        guard let value = value(key) else { return nil }
        guard case .array(let items) = value else { throw fail(key, "must be a list, found \(value.typeDescription)") }
        return items
    }

    /// A nested reader over an array element that is an object.
    func element(_ key: String, _ index: Int, _ value: JSONValue) throws -> ConfigReader {
        guard case .object(let inner) = value else {
            throw ConfigError.invalidField(file: file, field: "\(path(key))[\(index)]", reason: "must be an object, found \(value.typeDescription)")
        }
        let child = ConfigReader(file: file, prefix: "\(path(key))[\(index)]", object: inner)
        children.append(child)
        return child
    }

    /// Fields present in the file that nothing read, with full paths.
    var ignoredFields: [String] {
        object.keys.filter { !used.contains($0) }.map(path).sorted() + children.flatMap(\.ignoredFields)
    }

    /// Marks fields as known even though this reader does not use them.
    func acknowledge(_ keys: String...) {
        used.formUnion(keys)
        recorder?.acknowledge(keys.map(path))
    }
}

/// Shortens Foundation's JSON parse errors to the part that helps.
enum JSONErrorText {
    static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        if let range = text.range(of: "around line") {
            let tail = text[range.lowerBound...]
            return String(tail.prefix { $0 != "\"" && $0 != ")" && $0 != "." })
        }
        if let decoding = error as? DecodingError, case .dataCorrupted(let context) = decoding {
            if let underlying = context.underlyingError { return describe(underlying) }
            return context.debugDescription
        }
        return text
    }
}
