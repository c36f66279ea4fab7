import PortcullisScenarios

extension LoopbackSocket {
    /// Sends `text` as it is, bytes and all, and returns as text what came
    /// back before the server closed or `receiveTimeoutSeconds` passed
    /// without data: for requests no HTTP client would write. Throws when
    /// no connection could be made.
    public static func exchangeText(port: Int, _ text: String, receiveTimeoutSeconds: Int = 5) async throws -> String {
        guard let received = await exchangeOnOwnThread(port: port, bytes: Array(text.utf8), receiveTimeoutSeconds: receiveTimeoutSeconds) else {
            throw CancellationError()
        }
        return String(decoding: received, as: UTF8.self)
    }
}
