// Runtime engine: calls to external services — real HTTP through URLSession, to the service's
// URL or its `INFC_SERVICE_<NAME>_URL` override, held to the service's shared concurrency limit
// and rate (a token bucket) across every caller, workflow steps included.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import InfcCompiler
import Synchronization

/// Every service of the app, with its shared limit and rate. Survives `infc dev` swaps, so the
/// limits keep counting calls that started under the previous version.
public final class ServiceGateway: Sendable {
    private struct Endpoint: Sendable {
        var baseURL: String
        var limit: CountingSemaphore?
        var bucket: TokenBucket?
    }

    private let endpoints = Mutex<[String: Endpoint]>([:])
    private let environment: [String: String]
    private let logger: RuntimeLogger
    private let session: URLSession

    public init(environment: [String: String], logger: RuntimeLogger) {
        self.environment = environment
        self.logger = logger
        let configuration = URLSessionConfiguration.ephemeral
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpMaximumConnectionsPerHost = 64
        session = URLSession(configuration: configuration)
    }

    /// Takes the services of a (new) manifest; logs each URL override once.
    public func configure(_ services: [ManifestService]) {
        endpoints.withLock { table in
            var next: [String: Endpoint] = [:]
            for s in services {
                let override = environment[s.urlEnv].flatMap { $0.isEmpty ? nil : $0 }
                let base = override ?? s.url
                let old = table[s.name]
                if let override, old?.baseURL != override {
                    logger.notice("service \(s.name): using \(s.urlEnv)=\(override) instead of \(s.url)")
                }
                var e = Endpoint(baseURL: base, limit: nil, bucket: nil)
                if let limit = s.limit {
                    e.limit = old?.limit ?? CountingSemaphore(capacity: limit)
                    e.limit?.setCapacity(limit)
                }
                if let rate = s.ratePerSecond {
                    e.bucket = old?.bucket ?? TokenBucket(ratePerSecond: rate)
                }
                next[s.name] = e
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
        if let bucket = endpoint.bucket, !bucket.take(deadline: deadline, cancelled: cancelled) {
            throw RuntimeError.timeout()
        }

        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if (operation == .post || operation == .put), arguments.count > 1 {
            request.httpBody = Data(arguments[1].serialized().utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let remaining = deadline - Date().timeIntervalSince1970
        guard remaining > 0 else { throw RuntimeError.timeout() }
        request.timeoutInterval = remaining

        let box = Mutex<(Data?, URLResponse?, Error?)?>(nil)
        let done = DispatchSemaphore(value: 0)
        let task = session.dataTask(with: request) { data, response, error in
            box.withLock { $0 = (data, response, error) }
            done.signal()
        }
        task.resume()
        // Wait in short slices so that cancellation (shutdown, timeout) is noticed.
        while done.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
            if cancelled() || Date().timeIntervalSince1970 >= deadline {
                task.cancel()
                throw RuntimeError.timeout()
            }
        }
        let (data, response, error) = box.withLock { $0 } ?? (nil, nil, nil)
        if let error {
            throw RuntimeError.runtime(
                "service-unavailable", "\(service) could not be reached for \(method) \(pathValue): \(error.localizedDescription)",
                extra: ["service": .string(service)])
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let contentType = (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Content-Type")
        let body = Self.decodeBody(data.map(Array.init) ?? [], contentType: contentType)
        guard (200..<300).contains(status) else {
            let message = "\(service) answered \(status) to \(method) \(pathValue)"
            throw RuntimeError.runtime("service-error", message,
                                       extra: ["status": .int(status), "body": body, "message": .string(message)])
        }
        return body
    }

    /// The body parsed as JSON when it is JSON, else the text; null when empty.
    static func decodeBody(_ bytes: [UInt8], contentType: String?) -> JSON {
        if bytes.isEmpty { return .null }
        if let json = try? JSON.parse(bytes: bytes) { return json }
        return .string(String(decoding: bytes, as: UTF8.self))
    }

    /// `https://x/api` + `/charges` → `https://x/api/charges` (exactly one slash between).
    static func join(_ base: String, _ path: String) -> String {
        if path.isEmpty { return base }
        let b = base.hasSuffix("/") ? String(base.dropLast()) : base
        return path.hasPrefix("/") || path.hasPrefix("?") ? b + path : b + "/" + path
    }
}
