// Runtime state tests: the trace log — records round-trip through segments, merge by id, are
// found by trace or unique prefix, survive torn writes, and old segments are dropped.
import Foundation
import Testing
@testable import InfcRuntime

@Suite struct TraceLogTests {
    private func record(_ id: String, trace: String, parent: String? = nil, function: String = "f",
                        kind: String = "function", started: Double, duration: Double? = 1.5,
                        outcome: String = "ok", error: String? = nil) -> InvocationRecord {
        InvocationRecord(id: id, trace: trace, parent: parent, function: function, kind: kind,
                         trigger: "route GET /x", startedAt: started, durationMs: duration, outcome: outcome, error: error)
    }

    private func write(_ records: [[InvocationRecord]], to log: TraceLog, now: Double = 1_000) throws {
        let writer = try TraceLogWriter(log: log, now: now)
        for batch in records {
            var bytes: [UInt8] = []
            for r in batch { TraceRecordCodec.append(r, to: &bytes) }
            try writer.append(bytes)
        }
        writer.close()
    }

    @Test func recordsRoundTripAndMergeByInvocation() throws {
        let temp = TemporaryState()
        let log = TraceLog(directory: temp.directory.path + "/traces")
        let long = String(repeating: "é", count: 3_000)  // 6,000 bytes: cut at 4,096, between characters
        let a = record("0001", trace: "t-one", function: "post_orders", started: 10, duration: nil, outcome: "running")
        let b = record("0002", trace: "t-one", parent: "0001", function: "charge", started: 11, outcome: "error", error: long)
        let other = record("0003", trace: "t-two", started: 12)
        var done = a
        done.durationMs = 30
        done.outcome = "completed"
        done.trigger = "a later trigger, which the merge ignores"
        try write([[a, other], [b], [done]], to: log)

        let found = try log.records(trace: "t-one")
        #expect(found.map(\.id) == ["0001", "0002"])
        #expect(found[0].outcome == "completed" && found[0].durationMs == 30 && found[0].trigger == "route GET /x")
        #expect(found[1].parent == "0001" && found[1].durationMs == 1.5)
        #expect(found[1].error == String(repeating: "é", count: 2_048))
        #expect(try log.records(trace: "t-two") == [other])
        #expect(try log.records(trace: "t-three").isEmpty)
    }

    @Test func aUniquePrefixFindsItsTrace() throws {
        let temp = TemporaryState()
        let log = TraceLog(directory: temp.directory.path + "/traces")
        try write([[record("1", trace: "abcd1111", started: 1), record("2", trace: "abcd2222", started: 2),
                    record("3", trace: "abce3333", started: 3), record("4", trace: "abcd1111", started: 4)]], to: log)
        #expect(try log.records(trace: "abcd1").map(\.id) == ["1", "4"])
        #expect(try log.records(trace: "abce").map(\.id) == ["3"])
        #expect(try log.records(trace: "abcd").isEmpty)  // two traces
        #expect(try log.records(trace: "abc").isEmpty)  // too short to be a prefix
    }

    @Test func recentTracesAreNewestFirstWithTheirFirstFunction() throws {
        let temp = TemporaryState()
        let log = TraceLog(directory: temp.directory.path + "/traces")
        try write([[record("1", trace: "old", function: "a", started: 1)],
                   [record("3", trace: "new", function: "child", started: 30), record("2", trace: "new", function: "root", started: 20)],
                   [record("4", trace: "mid", function: "b", started: 10)]], to: log)
        let recent = try log.recentTraces(limit: 2)
        #expect(recent.map(\.trace) == ["new", "mid"])
        #expect(recent.map(\.function) == ["root", "b"])
        #expect(recent.first?.startedAt == 20)
        #expect(try log.recentTraces(limit: 10).count == 3)
    }

    @Test func aTornOrCorruptTailEndsItsSegmentOnly() throws {
        let temp = TemporaryState()
        let log = TraceLog(directory: temp.directory.path + "/traces")
        try write([[record("1", trace: "t", started: 1)], [record("2", trace: "t", started: 2)]], to: log)
        try write([[record("3", trace: "t", started: 3)]], to: log)
        let segments = log.segments()
        #expect(segments.count == 2)
        let first = try #require(try TraceLog.contents(of: segments[0].path))
        // A kill -9 in the middle of the second record's write.
        try Data(first.dropLast(5)).write(to: URL(fileURLWithPath: segments[0].path))
        #expect(try log.records(trace: "t").map(\.id) == ["1", "3"])
        // A flipped byte fails the record's check.
        var flipped = first
        flipped[TraceRecordCodec.magic.count + TraceRecordCodec.headerBytes + 3] ^= 0xFF
        try Data(flipped).write(to: URL(fileURLWithPath: segments[0].path))
        #expect(try log.records(trace: "t").map(\.id) == ["3"])
        // Not a segment at all, and a length that runs past the end.
        try Data("not a trace log".utf8).write(to: URL(fileURLWithPath: segments[0].path))
        try Data(TraceRecordCodec.magic + [0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0]).write(to: URL(fileURLWithPath: segments[1].path))
        #expect(try log.records(trace: "t").isEmpty)
        #expect(try log.recentTraces(limit: 5).isEmpty)
    }

    @Test func fullSegmentsRotateAndOnlyTheNewestAreKept() throws {
        let temp = TemporaryState()
        let log = TraceLog(directory: temp.directory.path + "/traces", segmentBytes: 300, keptSegments: 3)
        let batches = (0..<20).map { [record("\($0)", trace: "t\($0)", started: Double($0))] }
        try write(batches, to: log)
        let segments = log.segments()
        #expect(segments.count == 3)
        #expect(try log.records(trace: "t19").map(\.id) == ["19"])
        #expect(try log.records(trace: "t0").isEmpty)
        // Each start begins a new segment after the newest.
        let before = try #require(segments.last?.number)
        try write([[record("new", trace: "t-new", started: 100)]], to: log)
        #expect(log.segments().last?.number == before + 1)
        #expect(log.segments().count == 3)
    }

    @Test func aRemovedDirectoryIsMadeAgainAtTheNextSegment() throws {
        let temp = TemporaryState()
        let log = TraceLog(directory: temp.directory.path + "/traces", segmentBytes: 200, keptSegments: 3)
        let writer = try TraceLogWriter(log: log, now: 1_000)
        try FileManager.default.removeItem(atPath: log.directory)
        for i in 0..<6 {
            var bytes: [UInt8] = []
            TraceRecordCodec.append(record("\(i)", trace: "t\(i)", started: Double(i)), to: &bytes)
            try writer.append(bytes)
        }
        writer.close()
        // The first records went to the removed segment, until it was full; the later ones to a
        // new segment in a new directory.
        #expect(try log.records(trace: "t0").isEmpty)
        #expect(try log.records(trace: "t5").map(\.id) == ["5"])
        #expect(!log.segments().isEmpty)
    }

    @Test func segmentsOlderThanAWeekAreDroppedAtStart() throws {
        let temp = TemporaryState()
        let log = TraceLog(directory: temp.directory.path + "/traces")
        try write([[record("1", trace: "old", started: 1)]], to: log)
        try write([[record("2", trace: "recent", started: 2)]], to: log)
        let now = Date().timeIntervalSince1970
        let eightDaysAgo = time_t(now - TraceLog.maxAge - 86_400)
        var times = [timeval(tv_sec: eightDaysAgo, tv_usec: 0), timeval(tv_sec: eightDaysAgo, tv_usec: 0)]
        #expect(utimes(log.segments()[0].path, &times) == 0)
        try write([], to: log, now: now)
        #expect(try log.records(trace: "old").isEmpty)
        #expect(try log.records(trace: "recent").map(\.id) == ["2"])
        #expect(log.segments().count == 2)
    }

    @Test func aMissingDirectoryHasNoTraces() throws {
        let log = TraceLog(directory: "/nonexistent/infc-traces")
        #expect(try log.records(trace: "abcd").isEmpty)
        #expect(try log.recentTraces(limit: 3).isEmpty)
    }
}
