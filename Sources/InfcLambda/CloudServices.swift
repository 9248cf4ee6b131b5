// Lambda: service calls from a function in the cloud — sent by the socket HTTP client (no
// URLSession, so the bootstrap links statically), held to the service's limit by reserved
// concurrency and to its rate by slots every container shares in DynamoDB (docs/aws.md).
import FoundationEssentials
import Glibc
import InfcAWS
import InfcCompiler
import InfcHTTPClient
import InfcRuntime
import Synchronization

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

/// A service's `rate` held across every container of every function in the cloud: the local
/// `RateWindow`'s slots (`RateSlots`: N slots, each free again a window after the call that held
/// it ended), kept as items of the app's rate table (`INFC_SERVICE_RATES`, docs/aws.md), one per
/// slot: `{id: "SERVICE#k", freeAt: ms, holder}`. A call takes a slot with a conditional PutItem
/// (`attribute_not_exists(id) OR freeAt <= now`), trying the slots from a random one, and gives
/// it back with another (`holder = me`) that makes it free one window after the call's end. While
/// a call holds a slot its `freeAt` is the call's deadline plus the window, so a container that
/// dies holding one frees it by then. When every slot is busy the call waits until the soonest
/// is free (the failed writes return each slot's `freeAt`), until its deadline. The clocks are
/// the containers' own (Lambda's are NTP-synchronised): a skew of d lets two calls of one slot
/// come d closer than the window.
public final class SharedRateWindow: ServiceRate, @unchecked Sendable {
    public let ratePerSecond: Double
    let slots: RateSlots
    let service: String
    let table: String
    let dynamo: DynamoDB
    let now: @Sendable () -> Double
    private let lock = Mutex<[Int: String]>([:])

    public init(service: String, ratePerSecond: Double, table: String, client: AWSClient, now: @escaping @Sendable () -> Double = { LambdaClock.now() }) {
        self.service = service
        self.ratePerSecond = ratePerSecond
        self.slots = RateSlots(ratePerSecond: ratePerSecond)
        self.table = table
        self.dynamo = DynamoDB(client)
        self.now = now
    }

    static func ms(_ seconds: Double) -> Int64 { Int64((seconds * 1000).rounded(.up)) }

    func key(_ slot: Int) -> JSONObject { ["id": .string("\(service)#\(slot)")] }

    public func take(deadline: Double?, cancelled: () -> Bool) throws(RuntimeError) -> Int? {
        let start = Int.random(in: 0..<slots.count)
        while true {
            let t = now()
            var soonest = Double.infinity
            for i in 0..<slots.count {
                let slot = (start + i) % slots.count
                let token = UInt64.random(in: 0...UInt64.max).description
                // Held until the call's deadline (or 15 minutes, Lambda's longest) plus the window.
                let heldUntil = Self.ms((deadline ?? t + 900) + slots.window)
                let item: JSONObject = ["id": .string("\(service)#\(slot)"), "freeAt": .int(Int(heldUntil)), "holder": .string(token)]
                let current: JSON?
                do {
                    current = try dynamo.putItem(table: table, item: item, key: key(slot),
                                                 condition: "attribute_not_exists(#id) OR #freeAt <= :now",
                                                 names: ["#id": "id", "#freeAt": "freeAt"], values: [":now": .int(Int(Self.ms(t)))])
                } catch {
                    throw AWSHost.failure(error)
                }
                guard let current else {
                    lock.withLock { $0[slot] = token }
                    return slot
                }
                if let freeAt = current["freeAt"]?.doubleValue { soonest = min(soonest, freeAt / 1000) }
            }
            if cancelled() { return nil }
            let after = now()
            if let deadline, min(soonest, after + 0.1) >= deadline { return nil }
            sleepSeconds(max(0.005, min(soonest - after, 0.1)))
        }
    }

    public func release(_ slot: Int) {
        guard let token = lock.withLock({ $0.removeValue(forKey: slot) }) else { return }
        let item: JSONObject = ["id": .string("\(service)#\(slot)"), "freeAt": .int(Int(Self.ms(now() + slots.window))), "holder": .string(token)]
        // Another container took the slot after this call's deadline: it is theirs now.
        _ = try? dynamo.putItem(table: table, item: item, key: key(slot), condition: "#holder = :me",
                                names: ["#holder": "holder"], values: [":me": .string(token)])
    }
}

func sleepSeconds(_ s: Double) {
    var ts = timespec(tv_sec: Int(s), tv_nsec: Int((s - Double(Int(s))) * 1e9))
    nanosleep(&ts, nil)
}
