import ArgumentParser

/// `portcullis scenario …`: replay regression scenarios.
struct ScenarioCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenario",
        abstract: "Replay forum and regression scenarios against Portcullis or a live gateway.",
        subcommands: [ScenarioRunCommand.self]
    )
}
