/// Why a scenario file could not be used. Every case names the file, and
/// the step and field when there is one.
public enum ScenarioError: Error, CustomStringConvertible, Sendable {
    /// The file could not be read.
    case unreadable(file: String, reason: String)
    /// The file is not valid JSON or YAML.
    case malformed(file: String, reason: String)
    /// A field is missing, unknown or of the wrong type.
    case invalid(file: String, step: Int?, stepName: String?, field: String, reason: String)
    /// The gateway the scenario describes could not be started.
    case setupFailed(file: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            return "\(file): cannot read the scenario: \(reason)"
        case .malformed(let file, let reason):
            return "\(file): not valid JSON or YAML: \(reason)"
        case .invalid(let file, let step, let stepName, let field, let reason):
            var place = file
            if let step { place += ", step \(step)" + (stepName.map { " (\"\($0)\")" } ?? "") }
            return "\(place): field '\(field)' \(reason)"
        case .setupFailed(let file, let reason):
            return "\(file): the scenario's gateway could not start: \(reason)"
        }
    }
}
