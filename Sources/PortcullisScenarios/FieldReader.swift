import PortcullisCore

/// Reads the fields of one JSON object of a scenario file, remembering
/// which were used so ``finish()`` can refuse unknown ones, and naming the
/// file, step and dotted field in every error.
struct FieldReader {
    let value: JSONValue
    let file: String
    let step: Int?
    let stepName: String?
    let prefix: String
    private(set) var used: Set<String> = []

    init(_ value: JSONValue, file: String, step: Int?, stepName: String?, prefix: String) {
        self.value = value
        self.file = file
        self.step = step
        self.stepName = stepName
        self.prefix = prefix
    }

    var fields: [String: JSONValue] { value.objectValue ?? [:] }

    func error(_ field: String, _ reason: String) -> ScenarioError {
        .invalid(file: file, step: step, stepName: stepName, field: prefix + field, reason: reason)
    }

    func requireObject() throws {
        guard value.objectValue != nil else {
            throw ScenarioError.invalid(file: file, step: step, stepName: stepName, field: prefix.isEmpty ? "(top level)" : String(prefix.dropLast()),
                                        reason: "must be an object, got \(value.typeDescription)")
        }
    }

    mutating func raw(_ name: String) -> JSONValue? {
        used.insert(name)
        guard let found = fields[name], found != .null else { return nil }
        return found
    }

    mutating func string(_ name: String) throws -> String? {
        guard let found = raw(name) else { return nil }
        guard case .string(let text) = found else { throw error(name, "must be a string, got \(found.typeDescription)") }
        return text
    }

    mutating func int(_ name: String) throws -> Int64? {
        guard let found = raw(name) else { return nil }
        switch found {
        case .int(let number): return number
        case .double(let number) where number.rounded() == number && abs(number) < 9e15: return Int64(number)
        default: throw error(name, "must be an integer, got \(found.typeDescription)")
        }
    }

    mutating func bool(_ name: String) throws -> Bool? {
        guard let found = raw(name) else { return nil }
        guard case .bool(let flag) = found else { throw error(name, "must be true or false, got \(found.typeDescription)") }
        return flag
    }

    mutating func array(_ name: String) throws -> [JSONValue]? {
        guard let found = raw(name) else { return nil }
        guard case .array(let items) = found else { throw error(name, "must be an array, got \(found.typeDescription)") }
        return items
    }

    mutating func stringArray(_ name: String) throws -> [String]? {
        guard let items = try array(name) else { return nil }
        return try items.enumerated().map { offset, item in
            guard case .string(let text) = item else { throw error("\(name).\(offset)", "must be a string, got \(item.typeDescription)") }
            return text
        }
    }

    mutating func object(_ name: String) throws -> FieldReader? {
        guard let found = raw(name) else { return nil }
        guard case .object = found else { throw error(name, "must be an object, got \(found.typeDescription)") }
        return FieldReader(found, file: file, step: step, stepName: stepName, prefix: prefix + name + ".")
    }

    /// Refuses fields nobody asked for.
    func finish() throws {
        let unknown = Set(fields.keys).subtracting(used).sorted()
        guard let first = unknown.first else { return }
        throw error(first, "is not a known field here; known fields: \(used.sorted().joined(separator: ", "))")
    }
}
