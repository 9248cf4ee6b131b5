// Runtime state: what the running engine needs beyond resources, queues and workflows —
// releasing the claims of a runtime that died. (Invocation records are in the trace log.)

extension StateStore {
    /// Makes every claimed message receivable again at once. Only for a runtime starting on a
    /// state directory it holds exclusively: the claims belong to a process that is gone, so
    /// there is no point waiting for their visibility timeouts. Returns how many were released.
    @discardableResult
    public func releaseAllClaims(now: Double) throws(StoreError) -> Int {
        try database.run(
            "UPDATE queue_messages SET visible_at = ?, receipt = NULL WHERE receipt IS NOT NULL AND visible_at > ?",
            [.real(now), .real(now)])
    }
}
