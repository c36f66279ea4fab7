import ArgumentParser

/// The `portcullis` command line.
@main
struct Portcullis: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portcullis",
        abstract: "An API gateway core that runs Tyk JSVM middleware unchanged on JavaScriptCore.",
        discussion: """
        Plugins written for Tyk's JSVM (TykJS.TykMiddleware.NewMiddleware, TykGetKeyData, \
        TykSetKeyData, TykMakeHttpRequest, ...) run as they are. A session a plugin writes \
        is stored and visible to the rest of the request before the plugin call returns.

        Start with:
          portcullis plugin run plugins/header-injection.js \\
              --request examples/requests/get.json
        """,
        subcommands: [ServeCommand.self, PluginCommand.self, ScenarioCommand.self]
    )
}
