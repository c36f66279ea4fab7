/// Hides API keys in logs and error messages the way Tyk does: `****` and the
/// last four characters, or `--` for keys too short to show any part of.
public enum KeyMask {
    /// Returns the masked form of `key` for display.
    public static func mask(_ key: String) -> String {
        guard key.count > 4 else { return "--" }
        return "****" + key.suffix(4)
    }
}
