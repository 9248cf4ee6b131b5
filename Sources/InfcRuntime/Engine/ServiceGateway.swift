// Runtime engine: calls to external services — real HTTP through a `ServiceTransport`, to the
// service's URL or its `INFC_SERVICE_<NAME>_URL` override, held to the service's shared
// concurrency limit and rate (a sliding window) across every caller, workflow steps included.
// The transport is plugged in by the runtime executable (InfcServiceClient): this module never
// links the network stack, so `infc check` and `infc lsp` do not load it.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import InfcCompiler
import Synchronization

/// One HTTP request to a service.
public struct ServiceRequest: Sendable {
    public var method: String
    public var url: URL
    /// The body (POST and PUT): JSON text, or bytes.
    public var body: [UInt8]?
    /// The body's media type: `application/json`, or that of the bytes sent.
    public var contentType: String = "application/json"
    /// Seconds the whole exchange may take.
    public var timeout: Double
}

/// How a service request ended.
public enum ServiceOutcome: Sendable {
    case answered(status: Int, contentType: String?, body: [UInt8])
    /// The service could not be reached; the text says why.
    case unreachable(String)
    /// `shouldStop` turned true or the timeout passed first.
    case stopped
}

/// Sends service requests over the network.
public protocol ServiceTransport: Sendable {
    /// Sends `request` and waits for the outcome, returning `.stopped` soon after `shouldStop`
    /// turns true.
    func send(_ request: ServiceRequest, shouldStop: () -> Bool) -> ServiceOutcome
}

/// The transport of a runtime started without one: every call fails, saying why.
struct NoServiceTransport: ServiceTransport {
    func send(_ request: ServiceRequest, shouldStop: () -> Bool) -> ServiceOutcome {
        .unreachable("this process has no network client for services (run the app with `infc run`)")
    }
}

/// Every service of the app, with its shared limit and rate. Survives `infc dev` swaps, so the
/// limits keep counting calls that started under the previous version.
public final class ServiceGateway: Sendable {
    private struct Endpoint: Sendable {
        var baseURL: String
        var limit: CountingSemaphore?
        var rate: (any ServiceRate)?
    }

    private let endpoints = Mutex<[String: Endpoint]>([:])
    private let environment: [String: String]
    private let logger: RuntimeLogger
    private let transport: ServiceTransport
    /// Whether calling a service at its real URL is worth a warning (locally; in the cloud it is the point).
    private let warnsAboutRealURLs: Bool
    /// How a service's rate is held: a `RateWindow` in this process unless the host shares it.
    private let makeRate: @Sendable (_ service: String, _ ratePerSecond: Double) -> any ServiceRate

    public init(environment: [String: String], logger: RuntimeLogger, transport: ServiceTransport, warnsAboutRealURLs: Bool = true,
                makeRate: @escaping @Sendable (_ service: String, _ ratePerSecond: Double) -> any ServiceRate = { RateWindow(ratePerSecond: $1) }) {
        self.makeRate = makeRate
        self.environment = environment
        self.logger = logger
        self.transport = transport
        self.warnsAboutRealURLs = warnsAboutRealURLs
    }

    /// Takes the services of a (new) manifest; logs each URL override once.
    public func configure(_ services: [ManifestService]) {
        endpoints.withLock { table in
            var next: [String: Endpoint] = [:]
            for s in services {
                let override = environment[s.urlEnv].flatMap { $0.isEmpty ? nil : $0 }
                let base = override ?? s.url
                let old = table[s.name.text]
                if let override, old?.baseURL != override {
                    logger.notice("service \(s.name): using \(s.urlEnv)=\(override) instead of \(s.url)")
                } else if override == nil, old?.baseURL != s.url, warnsAboutRealURLs {
                    // A local run that calls the real service could send real messages or charges.
                    logger.warning("service \(s.name) will be called at its real URL \(s.url); "
                        + "set \(s.urlEnv) to call a local stub instead")
                }
                var e = Endpoint(baseURL: base, limit: nil, rate: nil)
                if let limit = s.limit {
                    e.limit = old?.limit ?? CountingSemaphore(capacity: limit)
                    e.limit?.setCapacity(limit)
                }
                if let rate = s.ratePerSecond {
                    e.rate = old?.rate.flatMap { $0.ratePerSecond == rate ? $0 : nil } ?? makeRate(s.name.text, rate)
                }
                next[s.name.text] = e
            }
            table = next
        }
    }

    /// Calls `operation` (get/post/put/delete) on `service` with `arguments` (path, body?).
    /// Waits for the shared limit and rate until `deadline`. A non-2xx answer is a catchable
    /// "service-error" carrying `status` and `body`; a network failure is "service-unavailable".
    public func call(service: String, operation: ResourceOperation, arguments: [JSON], deadline: Double,
                     cancelled: @escaping () -> Bool) throws(RuntimeError) -> JSON {
        guard let endpoint = endpoints.withLock({ $0[service] }) else {
            throw RuntimeError.runtime("invalid-program", "service `\(service)` is not in the manifest; rebuild with infc build")
        }
        guard let pathValue = arguments.first?.stringValue else {
            throw RuntimeError.runtime("invalid-argument", "\(service).\(operation.rawValue) takes a path string as its first argument")
        }
        let method = operation.rawValue.uppercased()
        guard let url = URL(string: Self.join(endpoint.baseURL, pathValue)) else {
            throw RuntimeError.runtime("invalid-argument", "\(service).\(operation.rawValue): \"\(pathValue)\" does not make a valid URL")
        }
        if let limit = endpoint.limit {
            guard limit.acquire(deadline: deadline, cancelled: cancelled) else {
                throw RuntimeError.timeout()
            }
        }
        defer { endpoint.limit?.release() }
        var slot: Int?
        if let rate = endpoint.rate {
            slot = try rate.take(deadline: deadline, cancelled: cancelled)
            if slot == nil { throw RuntimeError.timeout() }
        }
        defer { if let slot { endpoint.rate?.release(slot) } }

        var payload: [UInt8]?
        var payloadType = "application/json"
        if operation == .post || operation == .put, arguments.count > 1 {
            if case .bytes(let b) = arguments[1] {
                payload = b.data
                payloadType = b.contentType
            } else {
                payload = Array(arguments[1].serialized().utf8)
            }
        }
        let remaining = deadline - Date().timeIntervalSince1970
        guard remaining > 0 else { throw RuntimeError.timeout() }
        let request = ServiceRequest(method: method, url: url, body: payload, contentType: payloadType, timeout: remaining)
        let (status, contentType, bytes): (Int, String?, [UInt8])
        switch transport.send(request, shouldStop: { cancelled() || Date().timeIntervalSince1970 >= deadline }) {
        case .answered(let s, let t, let b): (status, contentType, bytes) = (s, t, b)
        case .stopped: throw RuntimeError.timeout()
        case .unreachable(let why):
            throw RuntimeError.runtime(
                "service-unavailable", "\(service) could not be reached for \(method) \(pathValue): \(why)",
                extra: ["service": .string(service)])
        }
        let body = Self.decodeBody(bytes, contentType: contentType)
        guard (200..<300).contains(status) else {
            let message = "\(service) answered \(status) to \(method) \(pathValue)" + Self.excerpt(of: bytes, body: body)
            throw RuntimeError.runtime("service-error", message,
                                       extra: ["status": .int(status), "body": body, "message": .string(message)])
        }
        return body
    }

    /// The body as bytes with their type when its type is not text (or it is not UTF-8), else
    /// parsed as JSON when it is JSON, else the text; null when empty.
    static func decodeBody(_ bytes: [UInt8], contentType: String?) -> JSON {
        if bytes.isEmpty { return .null }
        if !Bytes.isTextual(contentType) { return .bytes(Bytes(bytes, contentType: contentType)) }
        if let json = try? JSON.parse(bytes: bytes) { return json }
        guard let text = String(validating: bytes, as: UTF8.self) else { return .bytes(Bytes(bytes, contentType: contentType)) }
        return .string(text)
    }

    /// How much of an error answer's body its message quotes.
    static let excerptBytes = 1024

    /// `: <the first KB of the body>` for an error message, or nothing for an empty body.
    static func excerpt(of bytes: [UInt8], body: JSON) -> String {
        if bytes.isEmpty { return "" }
        if case .bytes(let b) = body { return ": ‹\(b.data.count) bytes of \(b.contentType)›" }
        var cut = Array(bytes.prefix(excerptBytes))
        // Never end inside a UTF-8 sequence: drop a last sequence that the cut left incomplete.
        if cut.count < bytes.count {
            var lead = cut.count - 1
            while lead > 0, cut.count - lead < 4, cut[lead] & 0xC0 == 0x80 { lead -= 1 }
            if lead >= 0, lead < cut.count {
                let b = cut[lead]
                let length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
                if cut.count - lead < length { cut.removeSubrange(lead...) }
            }
        }
        var text = String(decoding: cut, as: UTF8.self)
        text = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).joined(separator: " ")
        return ": " + text + (cut.count < bytes.count ? " … (\(bytes.count) bytes)" : "")
    }

    /// `https://x/api` + `/charges` → `https://x/api/charges` (exactly one slash between).
    static func join(_ base: String, _ path: String) -> String {
        if path.isEmpty { return base }
        let b = base.hasSuffix("/") ? String(base.dropLast()) : base
        return path.hasPrefix("/") || path.hasPrefix("?") ? b + path : b + "/" + path
    }
}
