// The runtime's network client for service calls: URLSession (HTTP and HTTPS, through the
// system's libcurl). Only the runtime executable links this module; the compiler's never does,
// so `infc check` and `infc lsp` start without loading libcurl and its libraries.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import InfcRuntime
import Synchronization

public final class URLSessionTransport: ServiceTransport {
    private let session: URLSession

    public init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpMaximumConnectionsPerHost = 64
        session = URLSession(configuration: configuration)
    }

    public func send(_ request: ServiceRequest, shouldStop: () -> Bool) -> ServiceOutcome {
        var r = URLRequest(url: request.url)
        r.httpMethod = request.method
        r.setValue("application/json, */*;q=0.8", forHTTPHeaderField: "Accept")
        if let body = request.body {
            r.httpBody = Data(body)
            r.setValue(request.contentType, forHTTPHeaderField: "Content-Type")
        }
        r.timeoutInterval = request.timeout
        let box = Mutex<(Data?, URLResponse?, Error?)?>(nil)
        let done = DispatchSemaphore(value: 0)
        let task = session.dataTask(with: r) { data, response, error in
            box.withLock { $0 = (data, response, error) }
            done.signal()
        }
        task.resume()
        // Wait in short slices so that cancellation (shutdown, timeout) is noticed.
        while done.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
            if shouldStop() {
                task.cancel()
                return .stopped
            }
        }
        let (data, response, error) = box.withLock { $0 } ?? (nil, nil, nil)
        if let error { return .unreachable(error.localizedDescription) }
        let http = response as? HTTPURLResponse
        return .answered(status: http?.statusCode ?? 0, contentType: http?.value(forHTTPHeaderField: "Content-Type"),
                         body: data.map(Array.init) ?? [])
    }
}
