import ArgumentParser

/// `portcullis plugin …`: work with one plugin outside the gateway.
struct PluginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugin",
        abstract: "Run and check JS middleware on its own.",
        subcommands: [PluginRunCommand.self, PluginTestCommand.self]
    )
}
