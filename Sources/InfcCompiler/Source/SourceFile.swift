// Source stage: a program's text, its byte ranges and the line map that turns offsets into
// line/column positions. Ranges are UTF-8 byte offsets; UTF-16 appears only at the LSP edge.

/// A half-open range of UTF-8 byte offsets into one source file.
public struct SourceRange: Hashable, Sendable, Comparable {
    public var start: Int
    public var end: Int

    public init(_ start: Int, _ end: Int) {
        self.start = start
        self.end = max(start, end)
    }

    public static let zero = SourceRange(0, 0)

    public var length: Int { end - start }
    public var isEmpty: Bool { end == start }

    /// The smallest range covering both.
    public func union(_ other: SourceRange) -> SourceRange {
        SourceRange(min(start, other.start), max(end, other.end))
    }

    public func contains(_ offset: Int) -> Bool { offset >= start && offset < end }

    /// True when `offset` lies inside or at the end of the range (cursor positions).
    public func touches(_ offset: Int) -> Bool { offset >= start && offset <= end }

    public static func < (a: SourceRange, b: SourceRange) -> Bool {
        a.start != b.start ? a.start < b.start : a.end < b.end
    }
}

/// A 1-based line and column. `column` counts Unicode scalars, as rustc and swiftc print it.
public struct SourceLocation: Hashable, Sendable {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}

/// One `.inf` file: its path as the user named it, its bytes, and a line map.
public struct SourceFile: Sendable {
    public let path: String
    public let bytes: [UInt8]
    /// Byte offset of the first byte of each line.
    public let lineStarts: [Int]

    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
        self.lineStarts = SourceFile.lineStarts(of: bytes)
        self.fileName = path.split(separator: "/").last.map(String.init) ?? path
    }

    /// The offset of each line's first byte: 0, then one past each newline. Every edit in the
    /// language server rebuilds this map, so it reads eight bytes at a time.
    static func lineStarts(of bytes: [UInt8]) -> [Int] {
        var starts = [0]
        starts.reserveCapacity(bytes.count / 24 + 1)
        bytes.withUnsafeBytes { raw in
            let count = raw.count
            var i = 0
            // A word holds a newline when (w ^ 0x0a…) has a zero byte.
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            let newlines = ones &* 0x0A
            while i + 8 <= count {
                let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ newlines
                if (w &- ones) & ~w & highs != 0 {
                    for k in i..<(i + 8) where raw[k] == 0x0A { starts.append(k + 1) }
                }
                i += 8
            }
            while i < count {
                if raw[i] == 0x0A { starts.append(i + 1) }
                i += 1
            }
        }
        return starts
    }

    public init(path: String, text: String) {
        self.init(path: path, bytes: Array(text.utf8))
    }

    /// The file name without directories, for messages (computed once: every `describe` uses it).
    public let fileName: String

    public var lineCount: Int { lineStarts.count }

    /// The 0-based line index holding `offset`.
    public func lineIndex(of offset: Int) -> Int {
        let offset = min(max(0, offset), bytes.count)
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    /// The 1-based line and Unicode-scalar column of `offset`.
    public func location(of offset: Int) -> SourceLocation {
        let offset = min(max(0, offset), bytes.count)
        let line = lineIndex(of: offset)
        var column = 1
        var i = lineStarts[line]
        while i < offset {
            i += SourceFile.scalarLength(lead: bytes[i])
            column += 1
        }
        return SourceLocation(line: line + 1, column: column)
    }

    /// The 0-based line and UTF-16 column of `offset`, as LSP positions count them.
    public func utf16Position(of offset: Int) -> (line: Int, character: Int) {
        let offset = min(max(0, offset), bytes.count)
        let line = lineIndex(of: offset)
        var character = 0
        var i = lineStarts[line]
        while i < offset {
            let n = SourceFile.scalarLength(lead: bytes[i])
            character += n == 4 ? 2 : 1
            i += n
        }
        return (line, character)
    }

    /// The byte offset of an LSP position (0-based line, UTF-16 column); clamped to the line.
    public func offset(utf16Line line: Int, character: Int) -> Int {
        guard line >= 0 else { return 0 }
        guard line < lineStarts.count else { return bytes.count }
        let lineEnd = line + 1 < lineStarts.count ? lineStarts[line + 1] - 1 : bytes.count
        var i = lineStarts[line]
        var units = 0
        while i < lineEnd && units < character {
            let n = SourceFile.scalarLength(lead: bytes[i])
            units += n == 4 ? 2 : 1
            i += n
        }
        return min(i, lineEnd)
    }

    /// The text of a 0-based line, without its line break.
    public func lineText(_ index: Int) -> String {
        guard index >= 0 && index < lineStarts.count else { return "" }
        var end = index + 1 < lineStarts.count ? lineStarts[index + 1] - 1 : bytes.count
        if end > lineStarts[index] && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return String(decoding: bytes[lineStarts[index]..<max(lineStarts[index], end)], as: UTF8.self)
    }

    /// The source text of a range.
    public func text(_ range: SourceRange) -> String {
        let s = min(max(0, range.start), bytes.count), e = min(max(s, range.end), bytes.count)
        return String(decoding: bytes[s..<e], as: UTF8.self)
    }

    /// `file:line:col` for a range's start.
    public func describe(_ range: SourceRange) -> String {
        let loc = location(of: range.start)
        return "\(fileName):\(loc.line):\(loc.column)"
    }

    /// Number of bytes in the UTF-8 sequence that starts with `lead` (1 for invalid bytes).
    @inline(__always)
    static func scalarLength(lead: UInt8) -> Int {
        switch lead {
        case 0xF0...0xF7: return 4
        case 0xE0...0xEF: return 3
        case 0xC0...0xDF: return 2
        default: return 1
        }
    }
}
