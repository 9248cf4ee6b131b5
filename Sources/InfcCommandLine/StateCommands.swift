// infc driver: the commands that look into and poke an app's local state beside its runtime —
// `infc table`, `infc bucket` and `infc schedule list` work on the state database directly
// (SQLite WAL: a second process may read and write while the runtime runs); `infc invoke`,
// `infc publish` and `infc schedule fire` ask the running runtime, through the control
// endpoints and the token it wrote to `runtime.json` in the state directory.
import Foundation
import Glibc
import InfcCompiler
import InfcRuntime

/// An app's local state: the state directory and the manifest of the app it belongs to.
struct AppState {
    var stateDirectory: String
    var manifest: Manifest
    /// The running runtime's endpoint, when `runtime.json` is there.
    var endpoint: RuntimeEndpoint?

    static let valueFlags: [String: [String]] = ["--state": [], "--build": []]

    /// `--state DIR` (default .infc) and the manifest from `--build DIR`, else from the running
    /// runtime, else from build/.
    static func open(_ args: Arguments) throws -> AppState {
        let state = args.values["--state"] ?? ".infc"
        // A file left by a runtime that was killed names a process that is gone.
        let endpoint = RuntimeEndpoint.read(stateDirectory: state).flatMap { e in
            kill(pid_t(e.pid), 0) == 0 || errno == EPERM ? e : nil
        }
        let build = args.values["--build"] ?? endpoint?.build ?? "build"
        let path = build + "/manifest.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("no manifest at \(path); pass --build DIR (the directory infc build wrote) or run this in the app's directory")
        }
        let json: JSON
        do {
            json = try JSON.parse(bytes: Array(data))
        } catch {
            throw CLIError("\(path) is not valid JSON: \(error.description); rebuild with infc build")
        }
        do {
            return AppState(stateDirectory: state, manifest: try Manifest.decode(json), endpoint: endpoint)
        } catch {
            throw CLIError("\(path): \(error)")
        }
    }

    func openStore() throws -> StateStore {
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        do {
            return try StateStore(path: stateDirectory + "/state.db")
        } catch {
            throw CLIError("cannot open the state in \(stateDirectory): \(error)")
        }
    }

    /// `name`, which must be one of `names` (a `kind` of the app).
    func require(_ kind: String, _ name: String, in names: [String]) throws {
        guard !names.contains(name) else { return }
        let hint = Spelling.closest(to: name, in: names).map { "did you mean '\($0)'? " } ?? ""
        let list = names.isEmpty ? "it has none" : "it has " + names.sorted().joined(separator: ", ")
        throw CLIError("\(manifest.app) has no \(kind) '\(name)'; \(hint)(\(list))")
    }

    /// POSTs `body` to the running runtime's control endpoint `action`; the JSON answer and status.
    func control(_ action: String, _ body: JSON) throws -> (status: Int, body: JSON) {
        guard let endpoint else {
            throw CLIError("no runtime is running on the state in \(stateDirectory); start it with 'infc run' (or pass --state DIR)")
        }
        let answer: (status: Int, body: [UInt8])
        do {
            answer = try LoopbackHTTP.post(port: endpoint.port, path: "/_infc/" + action, body: Array(body.serialized().utf8),
                                           headers: [(RuntimeEndpoint.tokenHeader, endpoint.token)])
        } catch {
            throw CLIError("the runtime of \(stateDirectory) does not answer on port \(endpoint.port) (\(error)); is it still running? start it with 'infc run'")
        }
        let json = (try? JSON.parse(bytes: answer.body)) ?? .string(String(decoding: answer.body, as: UTF8.self))
        return (answer.status, json)
    }
}

/// A blocking HTTP/1.1 POST to 127.0.0.1 (the compiler's executable links no network client).
enum LoopbackHTTP {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func post(port: Int, path: String, body: [UInt8], headers: [(String, String)]) throws -> (status: Int, body: [UInt8]) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: String(cString: strerror(errno))) }
        var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        let request = Array((head + "\r\n").utf8) + body
        var offset = 0
        while offset < request.count {
            let n = request[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send: \(String(cString: strerror(errno)))") }
            offset += n
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            guard n > 0 else {
                if errno == EINTR { continue }
                throw Failure(description: "recv: \(String(cString: strerror(errno)))")
            }
            response += buffer[0..<n]
        }
        guard let end = find([13, 10, 13, 10], in: response) else { throw Failure(description: "an incomplete answer") }
        let head0 = String(decoding: response[..<end], as: UTF8.self)
        let lines = head0.components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw Failure(description: "a malformed status line") }
        var bodyBytes = Array(response[(end + 4)...])
        for line in lines.dropFirst() where line.lowercased().hasPrefix("content-length:") {
            if let n = Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces)), n <= bodyBytes.count {
                bodyBytes = Array(bodyBytes.prefix(n))
            }
        }
        return (status, bodyBytes)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }
}

/// Reads a JSON value given on the command line (`-` reads standard input).
func jsonArgument(_ text: String, what: String) throws -> JSON {
    let bytes = text == "-" ? Array(FileHandle.standardInput.readDataToEndOfFile()) : Array(text.utf8)
    do {
        return try JSON.parse(bytes: bytes)
    } catch {
        throw CLIError("\(what) is not valid JSON (\(error.description)); quote strings: '\"text\"'")
    }
}

/// `infc table NAME get KEY | put KEY JSON | delete KEY | scan`.
struct TableCommand {
    var arguments: [String]
    static let usage = "usage: infc table NAME get KEY | put KEY JSON | delete KEY | scan [--state DIR] [--build DIR] [--format text|json]"

    func run() throws -> Int32 {
        var flags = AppState.valueFlags
        flags["--format"] = []
        let args = try Arguments(arguments, command: "table", valueFlags: flags)
        let p = args.positionals
        guard p.count >= 2 else { throw CLIError(Self.usage) }
        let app = try AppState.open(args)
        let table = p[0]
        try app.require("table", table, in: app.manifest.tables.map(\.text))
        let format = try args.choice("--format", ["text", "json"], default: "text")
        let store = try app.openStore()
        defer { store.close() }
        do {
            switch (p[1], p.count) {
            case ("get", 3):
                guard let value = try store.document(table: table, key: p[2]) else {
                    throw CLIError("table \(table) has no key '\(p[2])'", code: ExitCode.diagnostics)
                }
                print(value.prettyPrinted(), terminator: "")
            case ("put", 4):
                let value = try jsonArgument(p[3], what: "the value")
                try store.putDocument(table: table, key: p[2], value: value)
                print("put \(table)/\(p[2])")
            case ("delete", 3):
                guard try store.deleteDocument(table: table, key: p[2]) else {
                    throw CLIError("table \(table) has no key '\(p[2])'", code: ExitCode.diagnostics)
                }
                print("deleted \(table)/\(p[2])")
            case ("scan", 2):
                let documents = try store.scanDocuments(table: table)
                if format == "json" {
                    print(JSON.array(documents.map { ["key": .string($0.key), "value": $0.value] }).prettyPrinted(), terminator: "")
                } else {
                    if documents.isEmpty { print("(table \(table) is empty)") }
                    for d in documents { print("\(d.key)  \(d.value.serialized())") }
                }
            default:
                throw CLIError(Self.usage)
            }
        } catch let e as StoreError {
            throw CLIError("table \(table): \(e)")
        }
        return ExitCode.ok
    }
}

/// `infc bucket NAME get KEY [-o FILE] | put KEY FILE [--content-type T] | delete KEY | list [PREFIX]`.
struct BucketCommand {
    var arguments: [String]
    static let usage = "usage: infc bucket NAME get KEY [-o FILE] | put KEY FILE|- [--content-type T] | delete KEY | list [PREFIX] [--state DIR] [--build DIR]"

    func run() throws -> Int32 {
        var flags = AppState.valueFlags
        flags["-o"] = ["--output"]
        flags["--content-type"] = []
        let args = try Arguments(arguments, command: "bucket", valueFlags: flags)
        let p = args.positionals
        guard p.count >= 2 else { throw CLIError(Self.usage) }
        let app = try AppState.open(args)
        let bucket = p[0]
        try app.require("bucket", bucket, in: app.manifest.buckets.map(\.text))
        let store = try app.openStore()
        defer { store.close() }
        do {
            switch (p[1], p.count) {
            case ("get", 3):
                guard let object = try store.storedObject(bucket: bucket, key: p[2]) else {
                    throw CLIError("bucket \(bucket) has no object '\(p[2])'", code: ExitCode.diagnostics)
                }
                if let out = args.values["-o"] {
                    guard FileManager.default.createFile(atPath: out, contents: Data(object.data)) else {
                        throw CLIError("cannot write \(out)")
                    }
                } else {
                    FileHandle.standardOutput.write(Data(object.data))
                }
            case ("put", 4):
                let data: [UInt8]
                if p[3] == "-" {
                    data = Array(FileHandle.standardInput.readDataToEndOfFile())
                } else {
                    guard let d = FileManager.default.contents(atPath: p[3]) else { throw CLIError("cannot read \(p[3])") }
                    data = Array(d)
                }
                let type = args.values["--content-type"] ?? Self.guessType(p[3], data)
                let textual = type == nil || Bytes.isTextual(type)
                try store.putObject(bucket: bucket, key: p[2], data: data, contentType: textual ? nil : type)
                print("put \(bucket)/\(p[2]) (\(data.count) bytes\(type.map { ", \($0)" } ?? ""))")
            case ("delete", 3):
                guard try store.deleteObject(bucket: bucket, key: p[2]) else {
                    throw CLIError("bucket \(bucket) has no object '\(p[2])'", code: ExitCode.diagnostics)
                }
                print("deleted \(bucket)/\(p[2])")
            case ("list", 2), ("list", 3):
                let objects = try store.listObjects(bucket: bucket, prefix: p.count == 3 ? p[2] : nil)
                if objects.isEmpty { print("(no objects)") }
                let width = objects.map(\.key.count).max() ?? 0
                for o in objects { print(o.key.padding(toLength: width, withPad: " ", startingAt: 0) + "  \(o.size) bytes") }
            default:
                throw CLIError(Self.usage)
            }
        } catch let e as StoreError {
            throw CLIError("bucket \(bucket): \(e)")
        }
        return ExitCode.ok
    }

    /// The media type of a file put without --content-type: by extension, else text when it is
    /// UTF-8, else application/octet-stream.
    static func guessType(_ path: String, _ data: [UInt8]) -> String? {
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        let known = ["jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp",
                     "pdf": "application/pdf", "zip": "application/zip", "gz": "application/gzip", "mp3": "audio/mpeg",
                     "mp4": "video/mp4", "svg": "image/svg+xml", "json": "application/json", "txt": "text/plain", "csv": "text/csv",
                     "html": "text/html"]
        if let type = known[ext] { return type }
        return String(validating: data, as: UTF8.self) == nil ? Bytes.defaultContentType : nil
    }
}

/// `infc invoke FN [JSON...]`: runs a function (or starts a workflow) of the running app.
struct InvokeCommand {
    var arguments: [String]

    func run() throws -> Int32 {
        let args = try Arguments(arguments, command: "invoke", valueFlags: AppState.valueFlags)
        guard let name = args.positionals.first else { throw CLIError("usage: infc invoke FN [JSON ARG...] [--state DIR]") }
        let values = try args.positionals.dropFirst().enumerated().map { try jsonArgument($0.element, what: "argument \($0.offset + 1)") }
        let app = try AppState.open(args)
        let (status, body) = try app.control("invoke", ["function": .string(name), "args": .array(values)])
        switch status {
        case 200:
            print((body["result"] ?? .null).prettyPrinted(), terminator: "")
            return ExitCode.ok
        case 202:
            print("started workflow \(body["workflow"]?.stringValue ?? name): execution \(body["execution"]?.stringValue ?? "?") (see infc status)")
            return ExitCode.ok
        default:
            throw CLIError(body["error"]?.stringValue ?? "the runtime answered \(status)", code: status == 404 ? ExitCode.usage : ExitCode.diagnostics)
        }
    }
}

/// `infc publish TOPIC JSON`: publishes a message to every subscriber, as the app would.
struct PublishCommand {
    var arguments: [String]

    func run() throws -> Int32 {
        let args = try Arguments(arguments, command: "publish", valueFlags: AppState.valueFlags)
        guard args.positionals.count == 2 else { throw CLIError("usage: infc publish TOPIC JSON [--state DIR]") }
        let message = try jsonArgument(args.positionals[1], what: "the message")
        let app = try AppState.open(args)
        try app.require("topic", args.positionals[0], in: app.manifest.topics.map(\.text))
        let (status, body) = try app.control("publish", ["topic": .string(args.positionals[0]), "message": message])
        guard status == 202 else { throw CLIError(body["error"]?.stringValue ?? "the runtime answered \(status)") }
        print("published to \(args.positionals[0]) (\(body["subscribers"]?.intValue ?? 0) subscriber(s)), trace \(body["trace"]?.stringValue ?? "?")")
        return ExitCode.ok
    }
}

/// `infc schedule list | fire NAME`.
struct ScheduleCommand {
    var arguments: [String]
    static let usage = "usage: infc schedule list | fire NAME [--state DIR] [--build DIR] [--format text|json]"

    func run() throws -> Int32 {
        var flags = AppState.valueFlags
        flags["--format"] = []
        let args = try Arguments(arguments, command: "schedule", valueFlags: flags)
        let p = args.positionals
        switch (p.first, p.count) {
        case ("list", 1):
            let format = try args.choice("--format", ["text", "json"], default: "text")
            let app = try AppState.open(args)
            let store = try app.openStore()
            defer { store.close() }
            let recorded = Dictionary(try store.scheduleStates().map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            let rows = app.manifest.schedules.map { s -> (name: String, every: String, target: String, state: ScheduleState?) in
                (s.name.text, s.cron.map { "\"\($0)\"" } ?? Self.every(s.rateMs), s.target.text, recorded[s.name.text])
            }
            if format == "json" {
                print(JSON.array(rows.map { r in
                    ["name": .string(r.name), "every": .string(r.every), "target": .string(r.target),
                     "lastFire": r.state.map { .string(RuntimeLogger.timestamp($0.lastFire)) } ?? .null,
                     "nextFire": r.state?.nextFire.map { .string(RuntimeLogger.timestamp($0)) } ?? .null]
                }).prettyPrinted(), terminator: "")
            } else if rows.isEmpty {
                print("\(app.manifest.app) has no schedules")
            } else {
                let table = StatusReport.table(header: ["SCHEDULE", "EVERY", "RUNS", "LAST FIRED", "NEXT FIRING"], rows: rows.map { r in
                    [r.name, r.every, r.target, r.state.map { RuntimeLogger.timestamp($0.lastFire) } ?? "never",
                     r.state?.nextFire.map(RuntimeLogger.timestamp) ?? "when the runtime starts"]
                })
                print(table.joined(separator: "\n"))
            }
            return ExitCode.ok
        case ("fire", 2):
            let app = try AppState.open(args)
            try app.require("schedule", p[1], in: app.manifest.schedules.map(\.name.text))
            let (status, body) = try app.control("fire", ["schedule": .string(p[1])])
            guard status == 202 else { throw CLIError(body["error"]?.stringValue ?? "the runtime answered \(status)") }
            print("fired \(p[1]), trace \(body["trace"]?.stringValue ?? "?")")
            return ExitCode.ok
        default:
            throw CLIError(Self.usage)
        }
    }

    static func every(_ ms: Int?) -> String {
        guard let ms else { return "?" }
        for (unit, size) in [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)] where ms % size == 0 {
            return "\(ms / size)\(unit)"
        }
        return "\(ms)ms"
    }
}
