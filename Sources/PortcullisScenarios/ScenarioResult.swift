/// How one scenario ended.
public struct ScenarioResult: Sendable {
    /// The end state.
    public enum Outcome: Sendable, Equatable {
        /// Every step ran and every check held (some steps may have been skipped).
        case passed
        /// A check did not hold; see ``ScenarioResult/failure``.
        case failed
        /// The scenario could not run here (e.g. redis-server missing, or
        /// a live target cannot do its first step).
        case skipped(String)
        /// Marked `pending` in the file.
        case pending(String)
        /// The file is malformed or its gateway could not start.
        case error(String)
    }

    /// A check that did not hold.
    public struct StepFailure: Sendable {
        /// 1-based step number.
        public var step: Int
        /// The step's name.
        public var name: String
        /// Expected versus actual.
        public var message: String
    }

    /// A step that was not run, and why.
    public struct StepSkip: Sendable {
        /// 1-based step number.
        public var step: Int
        /// The step's name.
        public var name: String
        /// Why.
        public var reason: String
    }

    /// The scenario's name.
    public var name: String
    /// Its file.
    public var file: String
    /// What it should do under Tyk's race semantics.
    public var underTykRace: Scenario.ExpectedOutcome
    /// How it ended.
    public var outcome: Outcome
    /// Steps run.
    public var stepsRun: Int
    /// Steps in the file.
    public var stepsTotal: Int
    /// The first check that failed.
    public var failure: StepFailure?
    /// Steps skipped.
    public var skips: [StepSkip]
    /// Wall-clock seconds the run took.
    public var seconds: Double
    /// Seconds the scenario's clock moved.
    public var virtualSeconds: Double

    /// Whether the file was malformed or its gateway could not start.
    public var isError: Bool {
        if case .error = outcome { return true }
        return false
    }

    /// Whether this result should make the run fail.
    public var isFailure: Bool {
        switch outcome {
        case .failed, .error: return true
        default: return false
        }
    }
}
