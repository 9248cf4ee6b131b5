// Runtime state tests: workflow executions — creation, the insert-once step journal, status
// changes, sleeping and waking, and surviving a restart.
import InfcCompiler
import Testing
@testable import InfcRuntime

@Suite struct StoreWorkflowTests {
    let t0 = 1_700_000_000.0

    @Test func createIsCommittedAndIdempotent() throws {
        let temp = TemporaryState()
        let store = try temp.open()
        #expect(try store.createExecution(id: "ex-1", workflow: "checkout", input: ["cart": 7], trace: "tr", now: t0))
        #expect(try !store.createExecution(id: "ex-1", workflow: "other", input: nil, trace: "x", now: t0 + 1))
        let ex = try #require(try store.execution("ex-1"))
        #expect(ex.workflow == "checkout")
        #expect(ex.input == ["cart": 7])
        #expect(ex.trace == "tr")
        #expect(ex.status == .running)
        #expect(ex.result == nil && ex.error == nil && ex.wakeAt == nil)
        #expect(ex.createdAt == t0 && ex.updatedAt == t0)
        #expect(try store.execution("nope") == nil)
    }

    @Test func journalRecordsEachStepOnce() throws {
        let temp = TemporaryState()
        let store = try temp.open()
        try store.createExecution(id: "ex", workflow: "w", input: nil, trace: "t", now: t0)
        #expect(try store.recordStep(execution: "ex", stepKey: "charge#0", result: ["paid": true], now: t0) == ["paid": true])
        // A replay that computed something else must use the first result.
        #expect(try store.recordStep(execution: "ex", stepKey: "charge#0", result: ["paid": false], now: t0 + 1) == ["paid": true])
        #expect(try store.recordStep(execution: "ex", stepKey: "ship#1", result: nil, now: t0 + 2) == nil)
        #expect(try store.journal(execution: "ex") == ["charge#0": ["paid": true], "ship#1": nil])
        #expect(try store.journal(execution: "other").isEmpty)
        #expect(throws: StoreError.unknownExecution("ghost")) {
            try store.recordStep(execution: "ghost", stepKey: "s", result: 1, now: t0)
        }
    }

    @Test func statusChangesAndFinalStates() throws {
        let temp = TemporaryState()
        let store = try temp.open()
        for id in ["a", "b", "c"] { try store.createExecution(id: id, workflow: "w", input: nil, trace: "t", now: t0) }
        #expect(try store.markCompleted("a", result: ["ok": true], now: t0 + 1))
        #expect(try store.markFailed("b", error: "card declined", now: t0 + 2))
        #expect(try !store.markRunning("a", now: t0 + 3))  // final states stay final
        #expect(try !store.markSleeping("b", until: t0 + 10, now: t0 + 3))
        #expect(throws: StoreError.unknownExecution("zz")) { try store.markRunning("zz", now: t0) }

        let a = try #require(try store.execution("a"))
        #expect(a.status == .completed && a.result == ["ok": true] && a.updatedAt == t0 + 1)
        let b = try #require(try store.execution("b"))
        #expect(b.status == .failed && b.error == "card declined")
        #expect(try store.runningExecutions().map(\.id) == ["c"])
        #expect(try store.executions(status: .completed).map(\.id) == ["a"])
        #expect(try store.executionCounts() == [.running: 1, .completed: 1, .failed: 1])

        // A completed result of JSON null is still a result.
        try store.createExecution(id: "n", workflow: "w", input: nil, trace: "t", now: t0)
        try store.markCompleted("n", result: nil, now: t0)
        #expect(try store.execution("n")?.result == .some(.null))
    }

    @Test func sleepingExecutionsComeDueAndSurviveRestart() throws {
        let temp = TemporaryState()
        do {
            let store = try temp.open()
            for id in ["late", "early", "awake"] {
                try store.createExecution(id: id, workflow: "w", input: nil, trace: "t-\(id)", now: t0)
            }
            try store.markSleeping("late", until: t0 + 100, now: t0)
            try store.markSleeping("early", until: t0 + 50, now: t0)
            try store.recordStep(execution: "early", stepKey: "step#0", result: "done", now: t0)
            #expect(try store.dueExecutions(now: t0 + 49).isEmpty)
            #expect(try store.nextWakeTime() == t0 + 50)
            store.close()
        }
        let store = try temp.open()
        #expect(try store.executions(status: .sleeping).map(\.id).sorted() == ["early", "late"])
        #expect(try store.dueExecutions(now: t0 + 100).map(\.id) == ["early", "late"])
        let early = try #require(try store.dueExecutions(now: t0 + 60).first)
        #expect(early.id == "early" && early.wakeAt == t0 + 50 && early.trace == "t-early")
        #expect(try store.journal(execution: "early") == ["step#0": "done"])
        #expect(try store.runningExecutions().map(\.id) == ["awake"])

        #expect(try store.markRunning("early", now: t0 + 60))
        #expect(try store.execution("early")?.wakeAt == nil)
        #expect(try store.dueExecutions(now: t0 + 60).isEmpty)
        #expect(try store.nextWakeTime() == t0 + 100)
    }
}
