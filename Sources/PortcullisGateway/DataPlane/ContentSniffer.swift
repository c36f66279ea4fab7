import NIOCore

/// The `Content-Type` a response gets when it has a body and no type:
/// the one Go's `http.DetectContentType` reports for its first 512 bytes,
/// because Tyk's server adds exactly that and clients written against Tyk
/// (and its tests) rely on it — `text/plain; charset=utf-8` for the JSON
/// or text a virtual endpoint writes without headers, `text/html` for
/// markup, the image, font and archive types by their magic bytes, and
/// `application/octet-stream` for anything else binary.
enum ContentSniffer {
    /// Bytes looked at, as in Go and the WHATWG sniffing algorithm.
    static let limit = 512

    static func detect(_ buffer: ByteBuffer) -> String {
        let count = min(buffer.readableBytes, limit)
        return buffer.withUnsafeReadableBytes { raw in
            detect(UnsafeRawBufferPointer(rebasing: raw[0..<count]))
        }
    }

    static func detect(_ data: UnsafeRawBufferPointer) -> String {
        var start = 0
        while start < data.count, isWhitespace(data[start]) { start += 1 }
        let trimmed = UnsafeRawBufferPointer(rebasing: data[start...])
        for tag in htmlTags where matchesTag(tag, trimmed) { return "text/html; charset=utf-8" }
        if hasPrefix(trimmed, "<?xml") { return "text/xml; charset=utf-8" }
        for (magic, type) in exactSignatures where hasPrefix(data, magic) { return type }
        for (prefix, offset, tail, type) in riffLikeSignatures
        where hasPrefix(data, prefix) && data.count >= offset + tail.utf8.count
            && hasPrefix(UnsafeRawBufferPointer(rebasing: data[offset...]), tail) { return type }
        if isMP4(data) { return "video/mp4" }
        if !data.contains(where: isBinary) { return "text/plain; charset=utf-8" }
        return "application/octet-stream"
    }

    /// Tags that make a body HTML when one opens it (any letter case),
    /// followed by a space or `>`.
    private static let htmlTags = ["<!DOCTYPE HTML", "<HTML", "<HEAD", "<SCRIPT", "<IFRAME", "<H1", "<DIV", "<FONT",
                                   "<TABLE", "<A", "<STYLE", "<TITLE", "<B", "<BODY", "<BR", "<P", "<!--"]

    /// Magic numbers at the very start of the body (no whitespace skipped).
    private static let exactSignatures: [(String, String)] = [
        ("%PDF-", "application/pdf"),
        ("%!PS-Adobe-", "application/postscript"),
        ("\u{FE}\u{FF}", "text/plain; charset=utf-16be"),
        ("\u{FF}\u{FE}", "text/plain; charset=utf-16le"),
        ("\u{EF}\u{BB}\u{BF}", "text/plain; charset=utf-8"),
        ("\u{00}\u{00}\u{01}\u{00}", "image/x-icon"),
        ("\u{00}\u{00}\u{02}\u{00}", "image/x-icon"),
        ("BM", "image/bmp"),
        ("GIF87a", "image/gif"),
        ("GIF89a", "image/gif"),
        ("\u{89}PNG\r\n\u{1A}\n", "image/png"),
        ("\u{FF}\u{D8}\u{FF}", "image/jpeg"),
        ("ID3", "audio/mpeg"),
        ("OggS\u{00}", "application/ogg"),
        ("MThd\u{00}\u{00}\u{00}\u{06}", "audio/midi"),
        ("\u{1A}\u{45}\u{DF}\u{A3}", "video/webm"),
        ("wOFF", "font/woff"),
        ("wOF2", "font/woff2"),
        ("OTTO", "font/otf"),
        ("ttcf", "font/collection"),
        ("\u{00}\u{01}\u{00}\u{00}", "font/ttf"),
        ("\u{1F}\u{8B}\u{08}", "application/x-gzip"),
        ("PK\u{03}\u{04}", "application/zip"),
        ("Rar!\u{1A}\u{07}\u{00}", "application/x-rar-compressed"),
        ("Rar!\u{1A}\u{07}\u{01}\u{00}", "application/x-rar-compressed"),
        ("\u{00}asm", "application/wasm"),
    ]

    /// Containers named by a tag after a four-byte length: `RIFF` and `FORM`.
    private static let riffLikeSignatures: [(String, Int, String, String)] = [
        ("RIFF", 8, "WEBPVP", "image/webp"),
        ("RIFF", 8, "AVI ", "video/avi"),
        ("RIFF", 8, "WAVE", "audio/wave"),
        ("FORM", 8, "AIFF", "audio/aiff"),
    ]

    /// `ftyp` box with an `mp4` brand among its major and compatible brands.
    private static func isMP4(_ data: UnsafeRawBufferPointer) -> Bool {
        guard data.count >= 12 else { return false }
        let boxSize = Int(data[0]) << 24 | Int(data[1]) << 16 | Int(data[2]) << 8 | Int(data[3])
        guard boxSize % 4 == 0, boxSize <= data.count, hasPrefix(UnsafeRawBufferPointer(rebasing: data[4...]), "ftyp") else { return false }
        var offset = 8
        while offset < boxSize, offset + 3 <= data.count {
            if offset != 12, hasPrefix(UnsafeRawBufferPointer(rebasing: data[offset...]), "mp4") { return true }
            offset += 4
        }
        return false
    }

    /// The signature's bytes are the Latin-1 code points of `text`.
    private static func hasPrefix(_ data: UnsafeRawBufferPointer, _ text: String) -> Bool {
        let scalars = text.unicodeScalars
        guard data.count >= scalars.count else { return false }
        for (index, scalar) in scalars.enumerated() where data[index] != UInt8(truncatingIfNeeded: scalar.value) { return false }
        return true
    }

    private static func matchesTag(_ tag: String, _ data: UnsafeRawBufferPointer) -> Bool {
        let bytes = Array(tag.utf8)
        guard data.count > bytes.count else { return false }
        for (index, expected) in bytes.enumerated() {
            var byte = data[index]
            if expected >= UInt8(ascii: "A") && expected <= UInt8(ascii: "Z") { byte &= 0xDF }
            if byte != expected { return false }
        }
        let next = data[bytes.count]
        return next == UInt8(ascii: " ") || next == UInt8(ascii: ">")
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x09 || byte == 0x0A || byte == 0x0C || byte == 0x0D || byte == 0x20
    }

    /// Bytes that never appear in text.
    private static func isBinary(_ byte: UInt8) -> Bool {
        byte <= 0x08 || byte == 0x0B || (byte >= 0x0E && byte <= 0x1A) || (byte >= 0x1C && byte <= 0x1F)
    }
}
