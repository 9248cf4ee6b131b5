// Emit stage (AWS target): schedules as EventBridge expressions. `every 1d` → `rate(1 day)`;
// a 5-field cron (UTC, Sunday = 0) → EventBridge's 6-field `cron(...)` (Sunday = 1, `?` in the
// day field that is not restricted). What EventBridge cannot express is an error, not a guess.

enum ScheduleExpressions {
    /// The EventBridge expression of a plan schedule, or why there is none.
    static func expression(_ e: PlanSchedule.ScheduleExpression) -> Result<String, ScheduleError> {
        switch e {
        case .rate(let ms): return rate(milliseconds: ms)
        case .cron(let text): return cron(text)
        }
    }

    static func rate(milliseconds ms: Int64) -> Result<String, ScheduleError> {
        guard ms >= 60_000, ms % 60_000 == 0 else {
            return .failure(ScheduleError("EventBridge rates are whole minutes; write the interval in minutes, hours or days"))
        }
        for (unit, size) in [("day", Int64(86_400_000)), ("hour", 3_600_000), ("minute", 60_000)] where ms % size == 0 {
            let n = ms / size
            return .success("rate(\(n) \(unit)\(n == 1 ? "" : "s"))")
        }
        return .failure(ScheduleError("EventBridge rates are whole minutes"))
    }

    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    static func cron(_ text: String) -> Result<String, ScheduleError> {
        let parsed: CronExpression
        switch CronExpression.parse(text) {
        case .success(let c): parsed = c
        case .failure(let e): return .failure(ScheduleError(e.message))
        }
        if parsed.domRestricted && parsed.dowRestricted {
            return .failure(ScheduleError("the schedule restricts both the day of month and the day of week (cron matches either); EventBridge allows only one of them: split it into two schedules"))
        }
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        func list(_ values: Set<Int>, field: Int) -> String {
            fields[field] == "*" ? "*" : values.sorted().map(String.init).joined(separator: ",")
        }
        let dom = parsed.dowRestricted ? "?" : list(parsed.daysOfMonth, field: 2)
        let dow = parsed.dowRestricted ? parsed.daysOfWeek.sorted().map { dayNames[$0] }.joined(separator: ",") : "?"
        return .success("cron(\(list(parsed.minutes, field: 0)) \(list(parsed.hours, field: 1)) \(dom) \(list(parsed.months, field: 3)) \(dow) *)")
    }
}

struct ScheduleError: Error, Hashable, Sendable {
    var message: String
    init(_ message: String) { self.message = message }
}
