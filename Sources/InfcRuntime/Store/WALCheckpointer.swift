// Runtime state: the WAL checkpointer — copies committed WAL pages into the database file on a
// connection and thread of its own, so that a checkpoint's fsync never runs under the shared
// connection's lock (where every table read of every request would wait for the disk).
import CSQLite
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Synchronization

/// Checkpoints a WAL-mode database from a second connection.
///
/// The shared connection's automatic checkpoints are turned off; its WAL hook wakes this
/// checkpointer once the log holds `pagesBeforeCheckpoint` pages (and it checks every second
/// anyway). A PASSIVE checkpoint never blocks readers or writers; the log restarts from its
/// beginning once a checkpoint has caught up with it. Durability is unchanged: a commit is
/// durable when it is in the WAL, checkpointed or not.
final class WALCheckpointer: @unchecked Sendable {
    static let pagesBeforeCheckpoint: Int32 = 1000

    private let path: String
    private let wake = WakeSignal()
    private let stopped = Atomic<Bool>(false)
    private let done = InFlight()
    private var handle: OpaquePointer?

    /// Opens the second connection; nil when it cannot (the shared connection then keeps
    /// SQLite's automatic checkpoints).
    init?(path: String, busyTimeout: Double) {
        self.path = path
        var db: OpaquePointer?
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let db else {
            sqlite3_close_v2(db)
            return nil
        }
        sqlite3_busy_timeout(db, Int32(max(0, busyTimeout) * 1000))
        // A connection reads the file (and finds the WAL) only when first used; until then a
        // checkpoint on it reports "not in WAL mode" and does nothing.
        guard sqlite3_exec(db, "PRAGMA journal_mode", nil, nil, nil) == SQLITE_OK else {
            sqlite3_close_v2(db)
            return nil
        }
        handle = db
    }

    deinit { if let handle { sqlite3_close_v2(handle) } }

    /// Takes over checkpointing for `shared` and starts the thread.
    func attach(to shared: OpaquePointer) -> Bool {
        done.enter()
        guard Threads.spawn(stackBytes: 256 * 1024, { [self] in run() }) else {
            done.leave()
            return false
        }
        sqlite3_wal_autocheckpoint(shared, 0)
        sqlite3_wal_hook(shared, { context, _, _, pages in
            if let context, pages >= WALCheckpointer.pagesBeforeCheckpoint {
                Unmanaged<WALCheckpointer>.fromOpaque(context).takeUnretainedValue().wake.signal()
            }
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
        return true
    }

    /// Detaches from `shared`, runs a last checkpoint and closes the second connection.
    func stop(detaching shared: OpaquePointer) {
        sqlite3_wal_hook(shared, nil, nil)
        stopped.store(true, ordering: .sequentiallyConsistent)
        wake.signal()
        done.waitForZero(until: Date().timeIntervalSince1970 + 10)
    }

    private func run() {
        while !stopped.load(ordering: .sequentiallyConsistent) {
            wake.wait(until: Date().timeIntervalSince1970 + 1)
            checkpoint()
        }
        checkpoint()
        sqlite3_close_v2(handle)
        handle = nil
        done.leave()
    }

    private func checkpoint() {
        var logPages: Int32 = 0, checkpointed: Int32 = 0
        _ = sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, &logPages, &checkpointed)
    }
}
