import Foundation
import InfcCompiler
import Testing

// Tests name plan ids by literals (`p.function(named: "charge")`); the compiler's own code
// cannot: there an id is made from a name of its kind, never from a bare string in passing.
extension FunctionID: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self.init(value) }
}
extension WorkflowID: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self.init(value) }
}
extension ResourceID: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self.init(value) }
}
extension QueueID: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self.init(value) }
}
extension ScheduleID: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self.init(value) }
}

@Suite struct PlanIDTests {
    /// An id is its name on the wire: it encodes and decodes as the plain string, and prints,
    /// orders and hashes as its name does.
    @Test func idsEncodeAsTheirNames() throws {
        struct Row: Codable, Equatable {
            var function: FunctionID
            var workflow: WorkflowID
            var resource: ResourceID
            var queue: QueueID
            var schedule: ScheduleID
        }
        let row = Row(function: FunctionID("charge"), workflow: WorkflowID("fulfil"), resource: ResourceID("orders"),
                      queue: QueueID("charge-queue"), schedule: ScheduleID("every_1d-schedule"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(row)
        #expect(String(decoding: data, as: UTF8.self)
            == #"{"function":"charge","queue":"charge-queue","resource":"orders","schedule":"every_1d-schedule","workflow":"fulfil"}"#)
        #expect(try JSONDecoder().decode(Row.self, from: data) == row)
        #expect(try JSONEncoder().encode([FunctionID("a"), FunctionID("b")]) == JSONEncoder().encode(["a", "b"]))
        #expect("\(FunctionID("charge"))" == "charge")
        #expect([FunctionID("b"), FunctionID("a"), FunctionID("B")].sorted().map(\.text) == ["a", "b", "B"].sorted())
        #expect(Set([ResourceID("orders"), ResourceID("orders")]).count == 1)
    }

    /// A unit is a function or a workflow, ordered by name across both kinds.
    @Test func unitsOrderByName() {
        let units: [UnitID] = [.workflow(WorkflowID("b")), .function(FunctionID("c")), .function(FunctionID("a"))]
        #expect(units.sorted().map(\.text) == ["a", "b", "c"])
        #expect(UnitID.workflow(WorkflowID("b")).isWorkflow && UnitID.workflow(WorkflowID("b")).function == nil)
        let starters: [WorkflowStarter] = [.schedule(ScheduleID("every_1d-schedule")), .function(FunctionID("on_x"))]
        #expect(starters.sorted().map(\.text) == ["every_1d-schedule", "on_x"])
    }

    /// A permission is made from an id of its kind and read back typed: a queue's permission
    /// names no function, a table's no queue.
    @Test func permissionsAreTyped() {
        let send = Permission.send(to: QueueID("charge-queue"))
        #expect(send.type == .queue && send.action == .send && send.queue == QueueID("charge-queue"))
        #expect(send.function == nil && send.workflow == nil && send.declared == nil)
        let read = Permission(.read, on: ResourceID("orders"), .table)
        #expect(read.declared == ResourceID("orders") && read.queue == nil && read.resource == "orders")
        #expect(Permission.start(WorkflowID("fulfil")).workflow == WorkflowID("fulfil"))
        #expect(Permission.invoke(FunctionID("charge")).function == FunctionID("charge"))
        // Ordered by type, then name, then action, as before the ids.
        #expect([send, read, Permission.invoke(FunctionID("z"))].sorted() == [Permission.invoke(FunctionID("z")), send, read])
    }

    /// Names derived by the naming step carry their kind.
    @Test func namingGivesTypedNames() {
        let f = FunctionID("charge")
        #expect(Names.queue(of: f) == QueueID("charge-queue"))
        #expect(Names.deadLetterQueue(of: f) == QueueID("charge-dlq"))
        #expect(Names.deliveryQueue(of: f) == QueueID("charge-deliveries"))
        #expect(Names.schedule(of: "every_1d") == ScheduleID("every_1d-schedule"))
        #expect(Names.workflowStarter(of: WorkflowID("fulfil")) == FunctionID("start_fulfil"))
        #expect(Names.evaluator(of: WorkflowID("fulfil")) == FunctionID("fulfil-eval"))
        #expect(Names.serviceCaller(of: WorkflowID("fulfil"), service: ResourceID("payments")) == FunctionID("fulfil_payments"))
        #expect(Names.group(0) == FunctionID("group_1"))
    }
}
