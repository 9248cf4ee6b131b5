// Lambda: service calls from a function in the cloud — sent by the socket HTTP client (no
// URLSession, so the bootstrap links statically), held to the service's limit by reserved
// concurrency and to its rate by a per-container share of it (docs/aws.md, "Services").
import FoundationEssentials
import InfcCompiler
import InfcHTTPClient
import InfcRuntime

/// The `ServiceTransport` of the bootstrap: InfcHTTPClient, HTTPS through OpenSSL.
final class HTTPServiceTransport: ServiceTransport {
    let client: HTTPClient

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        client = HTTPClient(environment: environment)
    }

    func send(_ request: ServiceRequest, shouldStop: () -> Bool) -> ServiceOutcome {
        guard let url = HTTPURL(string: request.url.absoluteString) else { return .unreachable("\(request.url) is not an http or https URL") }
        var headers = HTTPHeaders([("Accept", "application/json, */*")])
        if let body = request.body, !body.isEmpty || request.method == "POST" || request.method == "PUT" {
            headers.add("Content-Type", request.contentType)
        }
        if shouldStop() { return .stopped }
        // One client per timeout: the exchange may take what is left of the invocation.
        var configuration = client.configuration
        configuration.timeout = max(0.001, request.timeout)
        let sender = configuration.timeout == client.configuration.timeout ? client : HTTPClient(configuration: configuration)
        do {
            let r = try sender.send(InfcHTTPClient.HTTPRequest(method: request.method, url: url, headers: headers, body: request.body ?? []))
            return .answered(status: r.status, contentType: r.headers["Content-Type"], body: r.body)
        } catch {
            if case .timedOut = error { return .stopped }
            return .unreachable(error.description)
        }
    }
}

/// How a service's `rate` holds across every container in the cloud, without a shared counter.
///
/// A service with a `limit` makes every function that calls it limited, with reserved
/// concurrency summing to at most the limit (the plan deals them out), so at most Σ limits
/// containers of those functions exist at once, each serving one invocation at a time. Each
/// container gets a sliding window of `rate / Σ limits` calls a second: together they can never
/// exceed `rate` in any one-second window. A service with a rate and no limit has callers
/// without reserved concurrency; its rate then holds per container only (docs/aws.md).
public enum CloudRates {
    public static func containerShare(_ manifest: Manifest) -> [ManifestService] {
        manifest.services.map { s in
            var share = s
            guard let rate = s.ratePerSecond else { return share }
            let callers = manifest.functions.filter { f in f.permissions.contains { $0.type == "service" && $0.resource == s.name.text } }
            let limits = callers.compactMap(\.limit)
            if !callers.isEmpty, limits.count == callers.count {
                share.ratePerSecond = rate / Double(max(1, limits.reduce(0, +)))
            }
            return share
        }
    }
}
