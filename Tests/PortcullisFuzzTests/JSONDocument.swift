import PortcullisCore

/// One step into a JSON document: an object member or an array element.
enum JSONPathStep: Sendable, Hashable {
    case key(String)
    case index(Int)
}

/// A place in a generated document where a value of a given kind lives, and
/// how the parser names it in errors (`storage.port`, `custom_middleware.pre[0].name`).
struct JSONSlot: Sendable {
    enum Kind: Sendable {
        case string, bool, integer, number, object, array
    }

    var path: [JSONPathStep]
    var kind: Kind

    /// The dotted name the config parsers use.
    var fieldName: String {
        var name = ""
        for step in path {
            switch step {
            case .key(let key): name += name.isEmpty ? key : ".\(key)"
            case .index(let index): name += "[\(index)]"
            }
        }
        return name
    }
}

extension JSONValue {
    /// This value with the value at `path` replaced by `newValue`. Steps that
    /// do not exist are left alone.
    func replacing(at path: ArraySlice<JSONPathStep>, with newValue: JSONValue) -> JSONValue {
        guard let step = path.first else { return newValue }
        switch (step, self) {
        case (.key(let key), .object(var members)):
            guard let child = members[key] else { return self }
            members[key] = child.replacing(at: path.dropFirst(), with: newValue)
            return .object(members)
        case (.index(let index), .array(var items)) where items.indices.contains(index):
            items[index] = items[index].replacing(at: path.dropFirst(), with: newValue)
            return .array(items)
        default:
            return self
        }
    }

    /// A value of a JSON type that a slot of `kind` must refuse. Fractions
    /// are used for integer slots; a whole number in float syntax is a valid integer.
    static func wrongType(for kind: JSONSlot.Kind, _ r: inout SplitMix64) -> JSONValue {
        let string = JSONValue.string(FuzzText.string(&r))
        let bool = JSONValue.bool(r.chance(50))
        let int = JSONValue.int(FuzzText.int64(&r))
        let fraction = JSONValue.double(FuzzText.fractionalDouble(&r))
        let array = JSONValue.array((0..<Int.random(in: 0...2, using: &r)).map { _ in FuzzText.jsonValue(&r, depth: 1) })
        let object = FuzzText.jsonObject(&r, depth: 1)
        switch kind {
        case .string: return r.pick([bool, int, fraction, array, object])
        case .bool: return r.pick([string, int, fraction, array, object, .string("true"), .int(1)])
        case .integer: return r.pick([string, bool, fraction, array, object, .string("8080")])
        case .number: return r.pick([string, bool, array, object, .string("1.5")])
        case .object: return r.pick([string, bool, int, fraction, array])
        case .array: return r.pick([string, bool, int, fraction, object])
        }
    }
}

/// Builds a JSON object while recording a slot for every member it adds.
struct DocumentBuilder {
    private(set) var members: [String: JSONValue] = [:]
    private(set) var slots: [JSONSlot] = []
    private let prefix: [JSONPathStep]

    init(prefix: [JSONPathStep] = []) {
        self.prefix = prefix
    }

    var value: JSONValue { .object(members) }

    mutating func set(_ key: String, _ value: JSONValue, _ kind: JSONSlot.Kind?) {
        members[key] = value
        if let kind { slots.append(JSONSlot(path: prefix + [.key(key)], kind: kind)) }
    }

    /// Adds a nested object built by `body`, keeping its slots.
    mutating func object(_ key: String, _ body: (inout DocumentBuilder) -> Void) {
        var child = DocumentBuilder(prefix: prefix + [.key(key)])
        body(&child)
        set(key, child.value, .object)
        slots += child.slots
    }

    /// Adds an array of objects, each built by `body`, keeping their slots.
    mutating func array(_ key: String, count: Int, _ body: (Int, inout DocumentBuilder) -> Void) {
        var items: [JSONValue] = []
        for index in 0..<count {
            var child = DocumentBuilder(prefix: prefix + [.key(key), .index(index)])
            body(index, &child)
            items.append(child.value)
            slots.append(JSONSlot(path: prefix + [.key(key), .index(index)], kind: .object))
            slots += child.slots
        }
        set(key, .array(items), .array)
    }
}
