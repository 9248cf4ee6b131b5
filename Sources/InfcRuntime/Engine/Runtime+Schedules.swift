// Runtime engine: the scheduler thread — fires `every` intervals and cron schedules, and resumes
// sleeping workflow executions when due. A firing stores its time and enqueues the invocation in
// one transaction, so a restart never fires twice, a firing missed while down fires once on
// start, and the invocation itself is retried like any queued delivery.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import InfcCompiler

/// The scheduler's memory: when each schedule last fired (mirrors the store), and its thread.
struct SchedulerState: Sendable {
    var lastFire: [String: Double] = [:]
    /// The next firings last written to the store, and the schedule names they were written for.
    var recordedNext: [String: Double] = [:]
    var recordedNames: [String]?
    var stopped = false
    var thread: InFlight?
}

extension Runtime {
    func startScheduler() {
        let thread = InFlight()
        thread.enter()
        schedulerState.withLock { $0.thread = thread }
        let ok = Threads.spawn(stackBytes: 512 * 1024) { [self] in
            schedulerLoop()
            thread.leave()
        }
        if !ok {
            thread.leave()
            logger.warning("cannot start the scheduler thread; schedules and sleeping workflows will not run")
        }
    }

    func stopScheduler() {
        let thread = schedulerState.withLock { s -> InFlight? in
            s.stopped = true
            return s.thread
        }
        schedulerWake.signal()
        thread?.waitForZero(until: clock.now() + 5)
    }

    private var schedulerStopped: Bool { schedulerState.withLock { $0.stopped } || isStopping }

    private func schedulerLoop() {
        while !schedulerStopped {
            let now = clock.now()
            var next = now + 30
            let schedules = deployment.manifest.schedules
            retireRemovedSchedules(schedules)
            for schedule in schedules {
                guard var due = nextFire(schedule, now: now) else { continue }
                if due <= now {
                    fire(schedule, at: now)
                    due = nextFire(schedule, now: now) ?? .greatestFiniteMagnitude
                }
                record(schedule, nextFire: due, now: now)
                next = min(next, due)
            }
            resumeDueExecutions()
            if let wake = (try? store.nextWakeTime()) ?? nil {
                // An execution that is due but still finishing its last run is relaunched when it
                // ends (it signals us); do not spin meanwhile.
                next = min(next, max(wake, now + 0.02))
            }
            schedulerWake.wait(until: next)
        }
    }

    /// Writes a schedule's next firing to the store when it changed (for `infc status`).
    private func record(_ schedule: ManifestSchedule, nextFire: Double, now: Double) {
        let changed = schedulerState.withLock { s -> Bool in
            guard s.recordedNext[schedule.name.text] != nextFire else { return false }
            s.recordedNext[schedule.name.text] = nextFire
            return true
        }
        guard changed, nextFire < .greatestFiniteMagnitude else { return }
        do {
            try store.setScheduleState(schedule.name.text, every: Self.describe(schedule), nextFire: nextFire, now: now)
        } catch {
            logger.warning("schedule \(schedule.name.text): \(error)")
        }
    }

    /// After a start or a swap, marks the schedules this version no longer has as not scheduled.
    private func retireRemovedSchedules(_ schedules: [ManifestSchedule]) {
        let names = schedules.map(\.name.text).sorted()
        let changed = schedulerState.withLock { s -> Bool in
            guard s.recordedNames != names else { return false }
            s.recordedNames = names
            s.recordedNext = [:]
            return true
        }
        if changed { try? store.retireSchedules(except: names) }
    }

    /// `every 5m` → "5m", a cron → its text.
    static func describe(_ schedule: ManifestSchedule) -> String {
        if let cron = schedule.cron { return "\"\(cron)\"" }
        guard let ms = schedule.rateMs else { return "?" }
        for (unit, size) in [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)] where ms % size == 0 {
            return "\(ms / size)\(unit)"
        }
        return "\(ms)ms"
    }

    /// When `schedule` fires next. A schedule that never fired starts counting from now.
    private func nextFire(_ schedule: ManifestSchedule, now: Double) -> Double? {
        var last = schedulerState.withLock { $0.lastFire[schedule.name.text] }
        if last == nil {
            do {
                last = try store.lastFire(schedule.name.text)
                if last == nil {
                    try store.setLastFire(schedule.name.text, now)
                    last = now
                }
            } catch {
                logger.warning("schedule \(schedule.name.text): \(error)")
                return nil
            }
            schedulerState.withLock { $0.lastFire[schedule.name.text] = last }
        }
        guard let last else { return nil }
        if let rate = schedule.rateMs {
            // Under a large time scale an interval could shrink to nothing: fire at most 10 times a second.
            return last + max(clock.scaled(milliseconds: Double(rate)), 0.1)
        }
        if let text = schedule.cron, case .success(let cron) = CronExpression.parse(text) {
            return cron.next(after: Int64(last)).map(Double.init)
        }
        return nil
    }

    /// Records the firing and enqueues its invocation, atomically.
    private func fire(_ schedule: ManifestSchedule, at now: Double) {
        let trace = Identifiers.trace()
        do {
            try store.database.transaction { () throws(StoreError) in
                try store.setLastFire(schedule.name.text, now)
                try store.enqueue(schedule.delivery.queue.text, body: ["schedule": .string(schedule.name.text), "firedAt": .number(now)],
                                  trace: trace, now: now)
            }
            schedulerState.withLock { $0.lastFire[schedule.name.text] = now }
            notify(queue: schedule.delivery.queue)
        } catch {
            logger.warning("schedule \(schedule.name.text) cannot fire: \(error)")
        }
    }
}
