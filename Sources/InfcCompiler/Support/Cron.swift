// Support: standard 5-field cron expressions (minute hour day-of-month month day-of-week), in
// UTC. Shared by the checker (validation) and the runtime's scheduler (next firing time).

public struct CronExpression: Hashable, Sendable {
    public var minutes: Set<Int>
    public var hours: Set<Int>
    public var daysOfMonth: Set<Int>
    public var months: Set<Int>
    public var daysOfWeek: Set<Int>
    /// Cron's rule: when both day fields are restricted, a day matches if either does.
    var domRestricted: Bool
    var dowRestricted: Bool

    private static let fieldNames = ["minute", "hour", "day of month", "month", "day of week"]
    private static let bounds = [0...59, 0...23, 1...31, 1...12, 0...7]
    private static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// Parses `expression`, or returns a message saying which field is wrong and why.
    public static func parse(_ expression: String) -> Result<CronExpression, CronError> {
        let fields = expression.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            return .failure(CronError("a cron schedule has 5 fields (minute hour day-of-month month day-of-week), found \(fields.count)"))
        }
        var sets: [Set<Int>] = []
        for (i, field) in fields.enumerated() {
            switch parseField(field.lowercased(), index: i) {
            case .success(let s): sets.append(s)
            case .failure(let e): return .failure(e)
            }
        }
        var dow = sets[4]
        if dow.contains(7) { dow.remove(7); dow.insert(0) }
        return .success(CronExpression(minutes: sets[0], hours: sets[1], daysOfMonth: sets[2], months: sets[3], daysOfWeek: dow,
                                       domRestricted: fields[2] != "*", dowRestricted: fields[4] != "*"))
    }

    private static func value(_ text: String, index: Int) -> Int? {
        if let n = Int(text) { return n }
        if index == 3, let m = monthNames.firstIndex(of: text) { return m + 1 }
        if index == 4, let d = dayNames.firstIndex(of: text) { return d }
        return nil
    }

    private static func parseField(_ field: String, index: Int) -> Result<Set<Int>, CronError> {
        let bound = bounds[index]
        let name = fieldNames[index]
        var out: Set<Int> = []
        for item in field.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            let stepParts = item.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard stepParts.count <= 2, !item.isEmpty else { return .failure(CronError("invalid \(name) field `\(field)`")) }
            var step = 1
            if stepParts.count == 2 {
                guard let s = Int(stepParts[1]), s >= 1 else {
                    return .failure(CronError("invalid step `/\(stepParts[1])` in the \(name) field"))
                }
                step = s
            }
            var lo = bound.lowerBound, hi = bound.upperBound
            let base = stepParts[0]
            if base != "*" {
                let ends = base.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
                guard ends.count <= 2, let a = value(ends[0], index: index) else {
                    return .failure(CronError("invalid \(name) `\(base)`"))
                }
                lo = a
                hi = a
                if ends.count == 2 {
                    guard let b = value(ends[1], index: index) else { return .failure(CronError("invalid \(name) `\(base)`")) }
                    hi = b
                } else if stepParts.count == 2 {
                    hi = bound.upperBound
                }
                guard bound.contains(lo) && bound.contains(hi) else {
                    return .failure(CronError("\(name) `\(base)` is out of range \(bound.lowerBound)-\(bound.upperBound)"))
                }
                guard lo <= hi else { return .failure(CronError("range `\(base)` in the \(name) field runs backwards")) }
            }
            var v = lo
            while v <= hi { out.insert(v); v += step }
        }
        return .success(out)
    }

    /// The first firing time strictly after `epochSeconds` (UTC), searching up to 5 years ahead.
    public func next(after epochSeconds: Int64) -> Int64? {
        var t = (epochSeconds / 60 + 1) * 60
        let limit = epochSeconds + 5 * 366 * 86_400
        while t <= limit {
            let c = CivilTime(epochSeconds: t)
            if !months.contains(c.month) {
                t = CivilTime.startOfNextMonth(c)
                continue
            }
            if !dayMatches(c) {
                t = (t / 86_400 + 1) * 86_400
                continue
            }
            if !hours.contains(c.hour) {
                t = (t / 3600 + 1) * 3600
                continue
            }
            if !minutes.contains(c.minute) {
                t += 60
                continue
            }
            return t
        }
        return nil
    }

    private func dayMatches(_ c: CivilTime) -> Bool {
        let dom = daysOfMonth.contains(c.day), dow = daysOfWeek.contains(c.weekday)
        if domRestricted && dowRestricted { return dom || dow }
        return dom && dow
    }
}

public struct CronError: Error, Hashable, Sendable {
    public var message: String
    init(_ message: String) { self.message = message }
}

/// A UTC calendar date and time, from days-since-epoch arithmetic (no Foundation calendar).
struct CivilTime {
    var year: Int, month: Int, day: Int, hour: Int, minute: Int, weekday: Int

    init(epochSeconds: Int64) {
        let days = Int(epochSeconds >= 0 ? epochSeconds / 86_400 : -((-epochSeconds + 86_399) / 86_400))
        let secs = Int(epochSeconds - Int64(days) * 86_400)
        hour = secs / 3600
        minute = secs % 3600 / 60
        weekday = ((days % 7) + 11) % 7  // 1970-01-01 was a Thursday (4)
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = doy - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    }

    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func startOfNextMonth(_ c: CivilTime) -> Int64 {
        let (y, m) = c.month == 12 ? (c.year + 1, 1) : (c.year, c.month + 1)
        return Int64(daysFromCivil(year: y, month: m, day: 1)) * 86_400
    }

}
