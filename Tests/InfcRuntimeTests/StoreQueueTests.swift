// Runtime state tests: durable queues — claim, ack, visibility expiry, retry, dead letters,
// topic fan-out, concurrent receivers, reopening the file, and a larger batch.
import InfcTestSupport
import Dispatch
import InfcCompiler
import Testing
@testable import InfcRuntime

@Suite struct StoreQueueTests {
    let t0 = 1_700_000_000.0

    @Test func enqueueReceiveAck() throws {
        let temp = TemporaryState()
        let store = try temp.open()
        let first = try store.enqueue("orders", body: ["n": 1], trace: "trace-1", now: t0)
        let second = try store.enqueue("orders", body: ["n": 2], trace: "trace-2", now: t0)
        try store.enqueue("other", body: "elsewhere", trace: "t", now: t0)
        #expect(second > first)
        #expect(try store.depth("orders", now: t0) == QueueDepth(visible: 2))

        let batch = try store.receive("orders", visibilityTimeout: 30, now: t0, max: 10)
        #expect(batch.map(\.id) == [first, second])
        let message = batch[0]
        #expect(message.body == ["n": 1])
        #expect(message.trace == "trace-1")
        #expect(message.receiveCount == 1)
        #expect(message.visibleAt == t0 + 30)
        #expect(message.topic == nil)
        #expect(batch[0].receipt != batch[1].receipt)
        #expect(try store.depth("orders", now: t0) == QueueDepth(inFlight: 2))
        #expect(try store.receive("orders", visibilityTimeout: 30, now: t0 + 1).isEmpty)

        #expect(try !store.ack(message.id, receipt: "wrong"))
        #expect(try store.ack(message.id, receipt: message.receipt))
        #expect(try !store.ack(message.id, receipt: message.receipt))
        #expect(try store.depth("orders", now: t0) == QueueDepth(inFlight: 1))
        #expect(try store.depth("other", now: t0) == QueueDepth(visible: 1))
        #expect(try store.depth("nothing", now: t0) == QueueDepth())
        #expect(try store.depths(now: t0) == ["orders": QueueDepth(inFlight: 1), "other": QueueDepth(visible: 1)])
    }

    @Test func expiredVisibilityMakesMessageReceivableAgain() throws {
        let temp = TemporaryState()
        let store = try temp.open()
        let id = try store.enqueue("jobs", body: 1, trace: "t", now: t0)
        let claimed = try #require(try store.receive("jobs", visibilityTimeout: 10, now: t0).first)
        #expect(try store.receive("jobs", visibilityTimeout: 10, now: t0 + 9.99).isEmpty)
        #expect(try store.nextVisibleTime("jobs") == t0 + 10)

        // The consumer "crashed": the claim expires and another consumer gets the message.
        let again = try #require(try store.receive("jobs", visibilityTimeout: 10, now: t0 + 10).first)
        #expect(again.id == id)
        #expect(again.receiveCount == 2)
        #expect(again.receipt != claimed.receipt)
        #expect(try !store.ack(id, receipt: claimed.receipt))  // the stale claim is refused
        #expect(try store.ack(id, receipt: again.receipt))
        #expect(try store.nextVisibleTime("jobs") == nil)
    }

    @Test func delayedEnqueueAndExtendedVisibility() throws {
        let temp = TemporaryState()
        let store = try temp.open()
        try store.enqueue("later", body: "x", trace: "t", delay: 60, now: t0)
        #expect(try store.depth("later", now: t0) == QueueDepth(delayed: 1))
        #expect(try store.receive("later", visibilityTimeout: 5, now: t0 + 59).isEmpty)
        let m = try #require(try store.receive("later", visibilityTimeout: 5, now: t0 + 60).first)
        #expect(try store.extendVisibility(m.id, receipt: m.receipt, timeout: 100, now: t0 + 61))
        #expect(try store.receive("later", visibilityTimeout: 5, now: t0 + 120).isEmpty)
        #expect(try store.receive("later", visibilityTimeout: 5, now: t0 + 161).count == 1)
    }

    @Test func retryLaterDelaysAndRecordsTheError() throws {
        let temp = TemporaryState()
        let store = try temp.open()
        let id = try store.enqueue("jobs", body: "work", trace: "t", now: t0)
        let m = try #require(try store.receive("jobs", visibilityTimeout: 30, now: t0).first)
        #expect(try !store.retryLater(id, receipt: "stale", delay: 5, error: "x", now: t0 + 1))
        #expect(try store.retryLater(id, receipt: m.receipt, delay: 5, error: "timeout calling payments", now: t0 + 1))
        #expect(try store.depth("jobs", now: t0 + 1) == QueueDepth(delayed: 1))
        #expect(try !store.ack(id, receipt: m.receipt))  // released: the old receipt is void
        #expect(try store.receive("jobs", visibilityTimeout: 30, now: t0 + 5.9).isEmpty)
        let retried = try #require(try store.receive("jobs", visibilityTimeout: 30, now: t0 + 6).first)
        #expect(retried.receiveCount == 2)
        #expect(retried.lastError == "timeout calling payments")
    }

    @Test func deadLetterMovesTheMessageAtomically() throws {
        let temp = TemporaryState()
        let store = try temp.open()
        let id = try store.enqueue("payments", body: ["amount": 5], trace: "trace-9", now: t0)
        try store.enqueue("refunds", body: 1, trace: "t", now: t0)
        let first = try #require(try store.receive("payments", visibilityTimeout: 1, now: t0).first)
        #expect(try store.retryLater(id, receipt: first.receipt, delay: 0, error: "boom 1", now: t0))
        let second = try #require(try store.receive("payments", visibilityTimeout: 1, now: t0 + 1).first)
        #expect(try !store.deadLetter(id, receipt: first.receipt, error: "stale", now: t0 + 2))
        #expect(try store.deadLetter(id, receipt: second.receipt, error: "boom 2", now: t0 + 2))
        #expect(try !store.deadLetter(id, receipt: second.receipt, error: "twice", now: t0 + 2))

        #expect(try store.depth("payments", now: t0 + 100) == QueueDepth())
        #expect(try store.receive("payments", visibilityTimeout: 1, now: t0 + 100).isEmpty)
        let dead = try store.deadLetters(queue: "payments")
        #expect(dead.count == 1)
        #expect(dead[0].messageID == id)
        #expect(dead[0].queue == "payments")
        #expect(dead[0].body == ["amount": 5])
        #expect(dead[0].trace == "trace-9")
        #expect(dead[0].receiveCount == 2)
        #expect(dead[0].error == "boom 2")
        #expect(dead[0].enqueuedAt == t0)
        #expect(dead[0].deadAt == t0 + 2)
        #expect(try store.deadLetters(queue: "refunds").isEmpty)
        #expect(try store.deadLetters().count == 1)
        #expect(try store.deadLetterCounts() == ["payments": 1])
    }

    @Test func publishFansOutToEverySubscriberQueue() throws {
        let temp = TemporaryState()
        let store = try temp.open()
        let ids = try store.publish(
            topic: "orderPlaced", to: ["email", "billing", "audit"], body: ["order": "o-1"], trace: "trace-p", now: t0)
        #expect(ids.count == 3)
        for queue in ["email", "billing", "audit"] {
            let m = try #require(try store.receive(queue, visibilityTimeout: 5, now: t0).first)
            #expect(m.topic == "orderPlaced")
            #expect(m.body == ["order": "o-1"])
            #expect(m.trace == "trace-p")
        }
        #expect(try store.publish(topic: "nobody", to: [], body: 1, trace: "t", now: t0).isEmpty)
    }

    @Test func messagesAreOrderedByVisibilityThenID() throws {
        let temp = TemporaryState()
        let store = try temp.open()
        let late = try store.enqueue("q", body: "late", trace: "t", delay: 10, now: t0)
        let a = try store.enqueue("q", body: "a", trace: "t", now: t0 + 1)
        let b = try store.enqueue("q", body: "b", trace: "t", now: t0)
        let received = try store.receive("q", visibilityTimeout: 5, now: t0 + 20, max: 10)
        #expect(received.map(\.id) == [b, a, late])
    }

    /// Four threads over two connections to the same file: claims are atomic both within a
    /// connection (the lock) and across connections (BEGIN IMMEDIATE and the busy timeout).
    @Test func concurrentReceiversNeverShareAClaim() throws {
        let temp = TemporaryState()
        let store = try temp.open()
        let second = try temp.open()
        for i in 0..<500 { try store.enqueue("work", body: .int(i), trace: "t\(i)", now: t0) }
        let stores = [store, second]

        let received = Locked<[Int64]>([])
        let failures = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            let store = stores[worker % 2]
            do {
                while true {
                    // A window far longer than the test: no claim may expire and be handed out again.
                    let batch = try store.receive("work", visibilityTimeout: 3600, now: t0, max: 1 + worker % 3)
                    if batch.isEmpty { break }
                    for m in batch {
                        received.withValue { $0.append(m.id) }
                        if try !store.ack(m.id, receipt: m.receipt) {
                            failures.withValue { $0.append("ack refused for \(m.id)") }
                        }
                    }
                }
            } catch {
                failures.withValue { $0.append("\(error)") }
            }
        }
        #expect(failures.withValue { $0 } == [])
        let ids = received.withValue { $0 }
        #expect(ids.count == 500)
        #expect(Set(ids).count == 500)
        #expect(try store.depth("work", now: t0 + 7200) == QueueDepth())
    }

    @Test func messagesSurviveClosingAndReopening() throws {
        let temp = TemporaryState()
        let firstID: Int64
        let secondID: Int64
        do {
            let store = try temp.open()
            firstID = try store.enqueue("durable", body: ["keep": true], trace: "trace-d", now: t0)
            secondID = try store.enqueue("durable", body: ["keep": 2], trace: "trace-e", now: t0)
            _ = try store.receive("durable", visibilityTimeout: 30, now: t0)  // claimed, never acked
            store.close()
        }
        let reopened = try temp.open()
        #expect(try reopened.depth("durable", now: t0) == QueueDepth(visible: 1, inFlight: 1))
        let all = try reopened.receive("durable", visibilityTimeout: 30, now: t0 + 30, max: 10)
        // The never-claimed message has been visible longer, so it comes first.
        #expect(all.map(\.id) == [secondID, firstID])
        #expect(all.map(\.body) == [["keep": 2], ["keep": true]])
        #expect(all.map(\.trace) == ["trace-e", "trace-d"])
        #expect(all.map(\.receiveCount) == [1, 2])
        // Ids keep increasing after a restart, even once the newest message is gone.
        for m in all { #expect(try reopened.ack(m.id, receipt: m.receipt)) }
        reopened.close()
        let again = try temp.open()
        #expect(try again.enqueue("durable", body: 3, trace: "t", now: t0) > secondID)
    }

    @Test func twoThousandMessagesRoundTrip() throws {
        let temp = TemporaryState()
        let store = try temp.open()
        let count = 2000
        for i in 0..<count { try store.enqueue("bulk", body: ["i": .int(i)], trace: "t", now: t0) }
        var seen: [Int] = []
        while true {
            let batch = try store.receive("bulk", visibilityTimeout: 60, now: t0, max: 1)
            guard let m = batch.first else { break }
            seen.append(try #require(m.body["i"]?.intValue))
            #expect(try store.ack(m.id, receipt: m.receipt))
        }
        #expect(seen == Array(0..<count))
        #expect(try store.depth("bulk", now: t0) == QueueDepth())
    }
}
