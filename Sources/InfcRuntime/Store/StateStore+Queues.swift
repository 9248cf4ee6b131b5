// Runtime state: durable at-least-once queues — enqueue, claim with a visibility timeout, ack,
// retry later, dead-letter — and topic fan-out, on the `queue_messages` and `dead_letters` tables.
import InfcCompiler

/// A message claimed by `receive`. Acknowledge, retry or dead-letter it with its `receipt`
/// before `visibleAt`, or it becomes receivable again (the consumer is presumed crashed).
public struct QueueMessage: Sendable, Hashable {
    public var id: Int64
    public var queue: String
    public var body: JSON
    public var trace: String
    /// The topic that published this message, when it came through one.
    public var topic: String?
    /// How many times the message has been received, this time included (1 on first delivery).
    public var receiveCount: Int
    /// The token proving this claim; a later claim of the same message gets a new one.
    public var receipt: String
    public var enqueuedAt: Double
    /// When the claim expires and the message becomes receivable again.
    public var visibleAt: Double
    /// The error recorded by the last `retryLater`, if any.
    public var lastError: String?
}

/// How many messages a queue holds: receivable now, claimed by a consumer, or waiting for a
/// delay (a fresh delayed message or a retry) to pass.
public struct QueueDepth: Sendable, Hashable {
    public var visible: Int
    public var inFlight: Int
    public var delayed: Int

    public init(visible: Int = 0, inFlight: Int = 0, delayed: Int = 0) {
        self.visible = visible
        self.inFlight = inFlight
        self.delayed = delayed
    }

    public var total: Int { visible + inFlight + delayed }
}

/// A message moved out of its queue for good, with the error that condemned it.
public struct DeadLetter: Sendable, Hashable {
    public var id: Int64
    public var messageID: Int64
    public var queue: String
    public var body: JSON
    public var trace: String
    public var topic: String?
    public var receiveCount: Int
    public var error: String
    public var enqueuedAt: Double
    public var deadAt: Double
    /// Every failed attempt, oldest first, the last one included.
    public var attempts: [FailedAttempt] = []
}

/// One failed delivery of a message: when it failed and why.
public struct FailedAttempt: Sendable, Hashable {
    public var at: Double
    public var error: String

    public init(at: Double, error: String) {
        self.at = at
        self.error = error
    }
}

extension StateStore {
    /// Adds a message to `queue`, receivable from `now + delay`; committed before it returns.
    @discardableResult
    public func enqueue(_ queue: String, body: JSON, trace: String, delay: Double = 0, now: Double)
        throws(StoreError) -> Int64
    {
        try insertMessage(queue, body: StoredValue.encode(body), trace: trace, topic: nil, visibleAt: now + max(0, delay), now: now)
    }

    /// Fans a message out to every subscriber queue of `topic` in one transaction: either every
    /// queue gets its copy or none does. Returns the new message ids in the order of `queues`.
    @discardableResult
    public func publish(topic: String, to queues: [String], body: JSON, trace: String, now: Double)
        throws(StoreError) -> [Int64]
    {
        let text = StoredValue.encode(body)
        return try database.transaction { () throws(StoreError) -> [Int64] in
            var ids: [Int64] = []
            ids.reserveCapacity(queues.count)
            for queue in queues {
                ids.append(try insertMessage(queue, body: text, trace: trace, topic: topic, visibleAt: now, now: now))
            }
            return ids
        }
    }

    /// Atomically claims up to `max` messages of `queue` that are visible at `now`, oldest
    /// visibility first (then id): each gets a fresh receipt, one more receive, and stays
    /// invisible to other receivers until `now + visibilityTimeout`.
    public func receive(_ queue: String, visibilityTimeout: Double, now: Double, max: Int = 1)
        throws(StoreError) -> [QueueMessage]
    {
        guard max > 0 else { return [] }
        let visibleAt = now + Swift.max(0, visibilityTimeout)
        return try database.transaction { () throws(StoreError) -> [QueueMessage] in
            let rows = try database.query(
                "SELECT id, body, trace, topic, receive_count, enqueued_at, last_error FROM queue_messages "
                    + "WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, id LIMIT ?",
                [.text(queue), .real(now), .int(max)])
            var messages: [QueueMessage] = []
            messages.reserveCapacity(rows.count)
            for row in rows {
                let id = try row.int64(0)
                let receipt = Self.newReceipt()
                try database.run(
                    "UPDATE queue_messages SET receive_count = receive_count + 1, visible_at = ?, receipt = ? WHERE id = ?",
                    [.real(visibleAt), .text(receipt), .integer(id)])
                messages.append(
                    QueueMessage(
                        id: id, queue: queue, body: try Self.decode(row.string(1)), trace: try row.string(2),
                        topic: try row.optionalString(3), receiveCount: try row.int(4) + 1, receipt: receipt,
                        enqueuedAt: try row.double(5), visibleAt: visibleAt, lastError: try row.optionalString(6)))
            }
            return messages
        }
    }

    /// Deletes a processed message. Returns false (and changes nothing) when `receipt` is not the
    /// message's current claim, e.g. after its visibility timeout let another consumer claim it.
    @discardableResult
    public func ack(_ messageID: Int64, receipt: String) throws(StoreError) -> Bool {
        try database.run("DELETE FROM queue_messages WHERE id = ? AND receipt = ?", [.integer(messageID), .text(receipt)]) > 0
    }

    /// Releases a claimed message to be received again at `now + delay`, recording `error`.
    /// Returns false when `receipt` is not the current claim.
    @discardableResult
    public func retryLater(_ messageID: Int64, receipt: String, delay: Double, error: String, now: Double)
        throws(StoreError) -> Bool
    {
        try database.run(
            "UPDATE queue_messages SET visible_at = ?1, receipt = NULL, last_error = ?2, errors = "
                + Self.appendingAttempt(error: 2, at: 3) + " WHERE id = ?4 AND receipt = ?5",
            [.real(now + max(0, delay)), .text(error), .real(now), .integer(messageID), .text(receipt)]) > 0
    }

    /// Keeps a claim alive for a slow consumer: the message stays invisible until `now + timeout`.
    /// Returns false when `receipt` is not the current claim.
    @discardableResult
    public func extendVisibility(_ messageID: Int64, receipt: String, timeout: Double, now: Double)
        throws(StoreError) -> Bool
    {
        try database.run(
            "UPDATE queue_messages SET visible_at = ? WHERE id = ? AND receipt = ?",
            [.real(now + max(0, timeout)), .integer(messageID), .text(receipt)]) > 0
    }

    /// Moves a claimed message to the dead letters with `error`, in one transaction. Returns
    /// false (and changes nothing) when `receipt` is not the current claim.
    @discardableResult
    public func deadLetter(_ messageID: Int64, receipt: String, error: String, now: Double) throws(StoreError) -> Bool {
        try database.transaction { () throws(StoreError) -> Bool in
            let moved = try database.run(
                "INSERT INTO dead_letters (message_id, queue, body, trace, topic, receive_count, error, enqueued_at, dead_at, errors) "
                    + "SELECT id, queue, body, trace, topic, receive_count, ?1, enqueued_at, ?2, " + Self.appendingAttempt(error: 1, at: 2)
                    + " FROM queue_messages WHERE id = ?3 AND receipt = ?4",
                [.text(error), .real(now), .integer(messageID), .text(receipt)])
            guard moved > 0 else { return false }
            try database.run("DELETE FROM queue_messages WHERE id = ?", [.integer(messageID)])
            return true
        }
    }

    /// The number of messages in `queue`, by state at `now`.
    public func depth(_ queue: String, now: Double) throws(StoreError) -> QueueDepth {
        guard let row = try database.queryFirst(
            "SELECT " + Self.depthColumns + " FROM queue_messages WHERE queue = ?2", [.real(now), .text(queue)])
        else { return QueueDepth() }
        return try Self.depth(row, from: 0)
    }

    /// The depth of every queue that holds at least one message, for the status command.
    public func depths(now: Double) throws(StoreError) -> [String: QueueDepth] {
        var result: [String: QueueDepth] = [:]
        let rows = try database.query(
            "SELECT queue, " + Self.depthColumns + " FROM queue_messages GROUP BY queue", [.real(now)])
        for row in rows { result[try row.string(0)] = try Self.depth(row, from: 1) }
        return result
    }

    /// The earliest time a message of `queue` becomes (or became) receivable, or nil when the
    /// queue is empty; a worker with nothing to receive can sleep until then.
    public func nextVisibleTime(_ queue: String) throws(StoreError) -> Double? {
        try database.queryFirst("SELECT min(visible_at) FROM queue_messages WHERE queue = ?", [.text(queue)])?
            .optionalDouble(0)
    }

    /// Dead letters, oldest first, of one queue or of all queues.
    public func deadLetters(queue: String? = nil, limit: Int? = nil, fromID: Int64 = 0) throws(StoreError) -> [DeadLetter] {
        let rows = try database.query(
            "SELECT id, message_id, queue, body, trace, topic, receive_count, error, enqueued_at, dead_at, errors "
                + "FROM dead_letters WHERE (?1 IS NULL OR queue = ?1) AND id >= ?3 ORDER BY id LIMIT ?2",
            [.optionalText(queue), .int(limit ?? -1), .integer(fromID)])
        var result: [DeadLetter] = []
        result.reserveCapacity(rows.count)
        for row in rows {
            result.append(
                DeadLetter(
                    id: try row.int64(0), messageID: try row.int64(1), queue: try row.string(2),
                    body: try Self.decode(row.string(3)), trace: try row.string(4), topic: try row.optionalString(5),
                    receiveCount: try row.int(6), error: try row.string(7), enqueuedAt: try row.double(8),
                    deadAt: try row.double(9), attempts: Self.attempts(try row.optionalString(10))))
        }
        return result
    }

    /// The newest `newest` dead letters of all queues, oldest first.
    public func deadLetters(newest: Int) throws(StoreError) -> [DeadLetter] {
        let first = try database.queryFirst(
            "SELECT id FROM dead_letters ORDER BY id DESC LIMIT 1 OFFSET ?", [.int(max(0, newest - 1))])?.int64(0)
        return try deadLetters(fromID: first ?? 0)
    }

    /// The number of dead letters per queue, for the status command.
    public func deadLetterCounts() throws(StoreError) -> [String: Int] {
        var result: [String: Int] = [:]
        for row in try database.query("SELECT queue, count(*) FROM dead_letters GROUP BY queue") {
            result[try row.string(0)] = try row.int(1)
        }
        return result
    }

    // MARK: Internals

    /// At most this many attempts are kept per message (the first and the newest), each error at
    /// most `attemptErrorCharacters` long, so that a message retried without end stays small.
    static let keptAttempts = 50
    static let attemptErrorCharacters = 4096

    /// SQL for the `errors` column with `{"at": ?at, "error": ?error}` appended.
    private static func appendingAttempt(error: Int, at: Int) -> String {
        let list = "(CASE WHEN json_array_length(coalesce(errors, '[]')) >= \(keptAttempts) "
            + "THEN json_remove(errors, '$[1]') ELSE coalesce(errors, '[]') END)"
        return "json_insert(\(list), '$[#]', json_object('at', ?\(at), 'error', substr(?\(error), 1, \(attemptErrorCharacters))))"
    }

    static func attempts(_ text: String?) -> [FailedAttempt] {
        guard let text, case .array(let items)? = try? JSON.parse(text) else { return [] }
        return items.compactMap { item in
            guard let at = item["at"]?.doubleValue, let error = item["error"]?.stringValue else { return nil }
            return FailedAttempt(at: at, error: error)
        }
    }

    private func insertMessage(_ queue: String, body: String, trace: String, topic: String?, visibleAt: Double, now: Double)
        throws(StoreError) -> Int64
    {
        try database.insert(
            "INSERT INTO queue_messages (queue, body, trace, topic, enqueued_at, visible_at) VALUES (?, ?, ?, ?, ?, ?)",
            [.text(queue), .text(body), .text(trace), .optionalText(topic), .real(now), .real(visibleAt)])
    }

    /// Visible, in flight (claimed, claim not expired), delayed (not claimed, not yet visible).
    /// Parameter ?1 is `now`.
    private static let depthColumns = """
        coalesce(sum(visible_at <= ?1), 0), \
        coalesce(sum(visible_at > ?1 AND receipt IS NOT NULL), 0), \
        coalesce(sum(visible_at > ?1 AND receipt IS NULL), 0)
        """

    private static func depth(_ row: SQLRow, from column: Int) throws(StoreError) -> QueueDepth {
        QueueDepth(visible: try row.int(column), inFlight: try row.int(column + 1), delayed: try row.int(column + 2))
    }

    /// A fresh, unguessable claim token.
    static func newReceipt() -> String {
        let n = UInt64.random(in: .min ... .max)
        let hex = String(n, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
