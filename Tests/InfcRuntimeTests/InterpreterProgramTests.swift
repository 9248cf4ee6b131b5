import Foundation
// Runtime interpreter tests: whole programs — fn calls and recursion, call depth, deep nesting
// on small stacks, cancellation, resource operations, `async`, and the SPEC §2 shop program.

import InfcCompiler
import Glibc
import Synchronization
import Testing
@testable import InfcRuntime

@Suite struct InterpreterProgramTests {
    @Test func fnCallsGoThroughTheHost() {
        let host = InterpreterTestHost()
        #expect(runProgram("""
            fn double(x) { return x * 2 }
            fn quad(x) { return double(double(x)) }
            fn main() { return quad(3) }
            """, host: host).success == 12)
        #expect(host.calls == ["quad", "double", "double"])
    }

    @Test func argumentsAreCopies() {
        #expect(runProgram("""
            fn change(o) {
              var c = o
              c.x = 2
              return c
            }
            fn main() {
              let o = {x: 1}
              let changed = change(o)
              return [o, changed]
            }
            """).success == [["x": 1], ["x": 2]])
    }

    @Test func recursion() {
        #expect(runProgram("""
            fn factorial(n) {
              if n <= 1 { return 1 }
              return n * factorial(n - 1)
            }
            fn fib(n) { if n < 2 { return n }; return fib(n - 1) + fib(n - 2) }
            fn main() { return [factorial(10), factorial(20), fib(15)] }
            """).success == [3_628_800, 2_432_902_008_176_640_000, 610])
    }

    @Test func callDepthIsLimitedAndNotCatchable() {
        let result = runProgram("""
            fn forever(n) { return forever(n + 1) }
            fn main() {
              try { return forever(0) } catch e { return "caught" }
            }
            """)
        let error = result.error
        guard case .callDepth? = error?.kind else {
            Issue.record("expected .callDepth, got \(String(describing: result))")
            return
        }
        #expect(error?.isCatchable == false)
        #expect(error?.stack.count == Interpreter.maxCallDepth + 1)
        #expect(error?.stack.first == "forever")
        #expect(error?.stack.last == "main")
    }

    @Test func depthJustBelowTheLimitWorks() {
        #expect(runProgram("""
            fn down(n) { if n == 0 { return "bottom" }; return down(n - 1) }
            fn main() { return down(199) }
            """).success == "bottom")
    }

    /// 250 levels of nested parentheses, run on a 256 KiB thread: a value or `.callDepth`, never a crash.
    @Test func deepNestingOnASmallStackDoesNotCrash() {
        let depth = 250
        let expression = String(repeating: "(1 + ", count: depth) + "0" + String(repeating: ")", count: depth)
        let recursive = """
            fn deep(n) { if n == 0 { return \(expression) }; return deep(n - 1) + 0 }
            fn main() { return deep(190) }
            """
        let normal = runProgram("fn main() { return \(expression) }")
        #expect(normal.success == JSON.number(Double(depth)))
        let compilation = compileProgram(recursive)
        let interpreter = Interpreter(program: compilation.program, model: compilation.model, file: compilation.file)
        let declaration = compilation.model.globals["main"]!
        let outcome = Mutex<Result<JSON, RuntimeError>?>(nil)
        let done = Mutex(false)
        #expect(ThreadLauncher.spawn(stackBytes: 256 * 1024) {
            let result = Result { () throws(RuntimeError) -> JSON in
                try interpreter.run(declaration: declaration, arguments: [], host: InterpreterTestHost())
            }
            outcome.withLock { $0 = result }
            done.withLock { $0 = true }
        })
        while !done.withLock({ $0 }) { usleep(1000) }
        switch outcome.withLock({ $0 }) {
        case .success(let v)?: #expect(v == JSON.number(Double(depth)))
        case .failure(let e)?:
            guard case .callDepth = e.kind else {
                Issue.record("unexpected error \(e)")
                return
            }
        case nil: Issue.record("no outcome")
        }
    }

    @Test func cancellationStopsWhileLoopsAndIsNotCatchable() {
        let host = InterpreterTestHost(cancelAfter: 50)
        let text = "fn main() {\n  try {\n    while true { }\n  } catch e { return \"caught\" }\n}\n"
        let error = runProgram(text, host: host).error
        guard case .timeout? = error?.kind else {
            Issue.record("expected .timeout, got \(String(describing: error))")
            return
        }
        #expect(error?.isCatchable == false)
        #expect(error?.value == ["error": "the invocation timed out", "code": "timeout"])
        let range = error?.range
        #expect(range.map { String(decoding: Array(text.utf8)[$0.start..<$0.end], as: UTF8.self) } == "while true { }")
    }

    @Test func cancellationStopsForLoopsAndRecursion() {
        let loop = runProgram("fn main() {\n var n = 0\n for x in range(100000) { n = n + x }\n return n\n}",
                              host: InterpreterTestHost(cancelAfter: 10)).error
        guard case .timeout? = loop?.kind else {
            Issue.record("expected .timeout, got \(String(describing: loop))")
            return
        }
        let recursion = runProgram("fn f(n) { if n == 0 { return 0 }; return f(n - 1) }\nfn main() { return f(150) }",
                                   host: InterpreterTestHost(cancelAfter: 20)).error
        guard case .timeout? = recursion?.kind else {
            Issue.record("expected .timeout, got \(String(describing: recursion))")
            return
        }
    }

    @Test func resourceOperationsUseDeclaredNames() {
        let host = InterpreterTestHost()
        #expect(runProgram("""
            table users
            bucket files
            topic events
            secret api_key
            service mail "https://mail.example.com"
            fn main() {
              users.put("u1", {name: "Ada"})
              files.put("a/1.txt", "one")
              files.put("b/2.txt", "two")
              events.publish({type: "hello"})
              let sent = mail.post("/send", {to: "ada"})
              let listed = files.list("a/")
              let all = users.scan()
              users.delete("u1")
              return [users.get("u1"), listed, all, api_key.value(), sent.id]
            }
            """, host: host).success == [JSON.null, ["a/1.txt"], [["name": "Ada"]], "secret-api_key", "pay-1"])
        #expect(host.operations.map { "\($0.operation.rawValue) \($0.resource)" } == [
            "put users", "put files", "put files", "publish events", "post mail", "list files", "scan users",
            "delete users", "get users", "value api_key",
        ])
        #expect(host.operations[3].arguments == [["type": "hello"]])
    }

    @Test func asyncStartsThroughTheHost() {
        let host = InterpreterTestHost()
        let result = runProgram("""
            fn work(a, b) { return a + b }
            fn main() {
              let id = async work(1, [2])
              return id
            }
            """, host: host)
        #expect(result.success == "async-1")
        #expect(host.asyncCalls.map(\.name) == ["work"])
        #expect(host.asyncCalls.first?.arguments == [1, [2]])
        #expect(host.calls.isEmpty)
    }

    @Test func runBindsMissingArgumentsToNullAndIgnoresExtras() throws {
        let compilation = compileProgram("fn f(a, b) { return [a, b] }\nfn main() { return f(1, 2) }")
        let interpreter = Interpreter(program: compilation.program, model: compilation.model, file: compilation.file)
        let f = try #require(compilation.model.globals["f"])
        #expect(Result { () throws(RuntimeError) -> JSON in
            try interpreter.run(declaration: f, arguments: [1], host: InterpreterTestHost())
        }.success == [1, JSON.null])
        #expect(Result { () throws(RuntimeError) -> JSON in
            try interpreter.run(declaration: f, arguments: [1, 2, 3], host: InterpreterTestHost())
        }.success == [1, 2])
    }

    @Test func runRefusesNonHandlers() {
        let compilation = compileProgram("table t\nfn main() { return t.get(\"k\") }")
        let interpreter = Interpreter(program: compilation.program, model: compilation.model, file: compilation.file)
        let error = Result { () throws(RuntimeError) -> JSON in
            try interpreter.run(declaration: 0, arguments: [], host: InterpreterTestHost())
        }.error
        #expect(error?.code == "invalid-program")
    }

    @Test func programsWithErrorsFailAtTheBrokenCodeOnly() {
        let compilation = Compilation.compile(SourceFile(path: "t.inf", text: "fn main() { return nope + 1 }\nfn ok() { return 1 }"))
        #expect(compilation.hasErrors)
        let interpreter = Interpreter(program: compilation.program, model: compilation.model, file: compilation.file)
        let main = compilation.model.globals["main"]!, ok = compilation.model.globals["ok"]!
        #expect(Result { () throws(RuntimeError) -> JSON in
            try interpreter.run(declaration: main, arguments: [], host: InterpreterTestHost())
        }.error?.code == "invalid-program")
        #expect(Result { () throws(RuntimeError) -> JSON in
            try interpreter.run(declaration: ok, arguments: [], host: InterpreterTestHost())
        }.success == 1)
    }
}

/// The SPEC §2 shop program, run handler by handler against the in-memory host.
@Suite struct InterpreterShopTests {
    static let shop: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("examples/shop.inf"), encoding: .utf8)) ?? ""
    }()

    let compilation = compileProgram(shop)
    var interpreter: Interpreter { Interpreter(program: compilation.program, model: compilation.model, file: compilation.file) }

    func declaration(_ matches: (HandlerDecl.Trigger) -> Bool) -> Int {
        compilation.program.declarations.firstIndex { $0.handler.map { matches($0.trigger) } ?? false } ?? -1
    }

    func route(_ method: String) -> Int {
        declaration { if case .route(let m, _, _) = $0 { return m.name == method } else { return false } }
    }

    func run(_ declaration: Int, _ arguments: [JSON], _ host: InterpreterTestHost) -> Result<JSON, RuntimeError> {
        let interpreter = self.interpreter
        return Result { () throws(RuntimeError) -> JSON in
            try interpreter.run(declaration: declaration, arguments: arguments, host: host)
        }
    }

    static func request(_ method: String, _ path: String, params: JSON = [:], body: JSON = .null) -> JSON {
        ["method": .string(method), "path": .string(path), "params": params, "query": [:], "headers": [:], "body": body]
    }

    @Test func postOrdersPutsTheOrderAndStartsCharge() {
        let host = InterpreterTestHost()
        let result = run(route("POST"), [Self.request("POST", "/orders", body: ["item": "book", "qty": 2])], host)
        let order: JSON = ["id": "uuid-1", "item": "book", "qty": 2, "status": "new"]
        #expect(result.success == ["status": 202, "body": order])
        #expect(host.table("orders")["uuid-1"] == order)
        #expect(host.asyncCalls == [.init(declaration: compilation.model.globals["charge"]!, name: "charge", arguments: [order])])
    }

    @Test func getOrderAnswersTheOrderOr404() {
        let host = InterpreterTestHost()
        _ = run(route("POST"), [Self.request("POST", "/orders", body: ["item": "pen", "qty": 1])], host)
        let found = run(route("GET"), [Self.request("GET", "/orders/uuid-1", params: ["id": "uuid-1"])], host)
        #expect(found.success?["item"] == "pen")
        let missing = run(route("GET"), [Self.request("GET", "/orders/x", params: ["id": "x"])], host)
        #expect(missing.success == ["status": 404, "body": ["error": "no such order"]])
    }

    @Test func chargeSubscriberAndWorkflow() {
        let host = InterpreterTestHost()
        let order: JSON = ["id": "o1", "item": "book", "qty": 2, "status": "new"]
        #expect(run(compilation.model.globals["charge"]!, [order], host).success == .null)
        #expect(host.table("orders")["o1"] == ["id": "o1", "item": "book", "qty": 2, "status": "paid", "payment": "pay-1"])
        let post = host.operations.first { $0.operation == .post }
        #expect(post?.arguments == ["/charges", ["amount": 20, "key": "secret-payments_key"]])
        let subscriber = declaration { if case .on = $0 { return true } else { return false } }
        #expect(run(subscriber, [["type": "paid", "id": "o1"]], host).success == .null)
        #expect(host.asyncCalls.map(\.name) == ["follow_up"])
        #expect(run(compilation.model.globals["follow_up"]!, ["o1"], host).success == .null)
        #expect(host.sleeps == [86_400_000])
        #expect(host.calls == ["remind"])
        #expect(host.state.withLock { $0.buckets["receipts"]?.keys } == ["o1.txt", "reminders/o1.txt"])
        #expect(host.state.withLock { $0.buckets["receipts"]?["o1.txt"] } == "order o1: paid")
    }

    @Test func scheduleChargesNewOrders() {
        let host = InterpreterTestHost()
        _ = run(route("POST"), [Self.request("POST", "/orders", body: ["item": "a", "qty": 1])], host)
        _ = run(route("POST"), [Self.request("POST", "/orders", body: ["item": "b", "qty": 1])], host)
        let every = declaration { if case .every = $0 { return true } else { return false } }
        #expect(run(every, [], host).success == .null)
        #expect(host.asyncCalls.map(\.name) == ["charge", "charge", "charge", "charge"])
    }
}
