// Runtime interpreter tests: statements — assignment forms and value semantics, `if`, `for`
// over lists, objects and null, `while`, `return`, `throw`, `try`/`catch`, `sleep`, `parallel`.

import InfcCompiler
import Testing
@testable import InfcRuntime

@Suite struct InterpreterStatementTests {
    @Test func assignmentForms() {
        #expect(runProgram("""
            fn main() {
              var x = 1
              x = x + 1
              var o = {a: {b: [1, 2, 3]}, c: 0}
              o.c = x
              o.a.b[1] = "two"
              o["d"] = {e: []}
              o.d.e = o.d.e + [true]
              o.new = 5
              var l = [[0, 0], [0, 0]]
              l[1][0] = 7
              return [x, o, l]
            }
            """).success == [2, ["a": ["b": [1, "two", 3]], "c": 2, "d": ["e": [true]], "new": 5], [[0, 0], [7, 0]]])
    }

    @Test func assignmentCopiesValues() {
        #expect(runProgram("""
            fn main() {
              var a = {list: [1]}
              var b = a
              b.list[0] = 99
              let c = a.list
              a.list = a.list + [2]
              return [a, b, c]
            }
            """).success == [["list": [1, 2]], ["list": [99]], [1]])
    }

    @Test func assignmentErrors() {
        let setOnNumber = runProgram("fn main() {\n var x = {n: 1}\n x.n.m = 2\n return x\n}").error
        #expect(setOnNumber?.code == "type-error")
        #expect(setOnNumber?.message == "cannot set field `m` on a number")
        #expect(runProgram("fn main() {\n var x = {}\n x.a.b = 2\n return x\n}").error?.message == "cannot set field `b` on null")
        #expect(runProgram("fn main() {\n var l = [1]\n l[1] = 2\n return l\n}").error?.code == "index-error")
        #expect(runProgram("fn main() {\n var l = [1]\n l[-1] = 2\n return l\n}").error?.code == "index-error")
        #expect(runProgram("fn main() {\n var s = \"abc\"\n s[0] = \"x\"\n return s\n}").error?.code == "type-error")
        #expect(runProgram("fn main() {\n var o = {}\n o[1] = 2\n return o\n}").error?.code == "type-error")
        // A failed assignment leaves the variable as it was.
        #expect(runProgram("""
            fn main() {
              var x = {a: {b: 1}, l: [1]}
              try { x.a.b.c = 2 } catch e { }
              try { x.l[5] = 2 } catch e { }
              return x
            }
            """).success == ["a": ["b": 1], "l": [1]])
    }

    @Test func ifElseChains() {
        let program = """
            fn pick(n) {
              if n < 0 { return "negative" } else if n == 0 { return "zero" } else { return "positive" }
            }
            fn main() { return [pick(-1), pick(0), pick(1)] }
            """
        #expect(runProgram(program).success == ["negative", "zero", "positive"])
        #expect(runProgram("fn main() {\n var r = 1\n if null { r = 2 }\n if 0 { r = r + 10 }\n return r\n}").success == 11)
    }

    @Test func forOverListObjectAndNull() {
        #expect(runProgram("""
            fn main() {
              var total = 0
              for n in [1, 2, 3] { total = total + n }
              var names = ""
              let object = {b: 1, a: 2}
              for k in object { names = names + k }
              var count = 0
              for x in null { count = count + 1 }
              return [total, names, count]
            }
            """).success == [6, "ba", 0])
        let error = runProgram("fn main() {\n for c in \"abc\" { log(c) }\n}").error
        #expect(error?.code == "type-error")
        #expect(error?.message.hasPrefix("cannot iterate over a string") == true)
    }

    @Test func forIteratesOverACopy() {
        #expect(runProgram("""
            fn main() {
              var l = [1, 2]
              for x in l { l = l + [x] }
              return l
            }
            """).success == [1, 2, 1, 2])
    }

    @Test func whileWithACounter() {
        #expect(runProgram("""
            fn main() {
              var i = 0
              var sum = 0
              while i < 100 {
                i = i + 1
                sum = sum + i
              }
              return {i: i, sum: sum}
            }
            """).success == ["i": 100, "sum": 5050])
    }

    @Test func returnLeavesLoopsAndBareReturnIsNull() {
        #expect(runProgram("""
            fn find(l, t) {
              for x in l { while true { if x == t { return "found {x}" } else { return null } } }
              return "missing"
            }
            fn bare() { return }
            fn none() { let _x = 1 }
            fn main() { return [find([3], 3), find([1], 3), find([], 3), bare(), none()] }
            """).success == ["found 3", JSON.null, "missing", JSON.null, JSON.null])
    }

    @Test func uncaughtThrowSurfacesWithRange() {
        let text = "fn fail(x) {\n  throw {message: \"bad\", x: x}\n}\nfn main() {\n  fail(1)\n}\n"
        let error = runProgram(text).error
        guard case .thrown(let v)? = error?.kind else {
            Issue.record("expected a thrown value, got \(String(describing: error))")
            return
        }
        #expect(v == ["message": "bad", "x": 1])
        #expect(error?.value == v)
        #expect(error?.isCatchable == true)
        #expect(error?.stack == ["fail", "main"])
        let range = error?.range
        #expect(range.map { String(decoding: Array(text.utf8)[$0.start..<$0.end], as: UTF8.self) } == "throw {message: \"bad\", x: x}")
    }

    @Test func tryCatchBindsThrownValues() {
        #expect(runProgram("""
            fn main() {
              var log = []
              try {
                log = log + ["before"]
                throw "oops"
              } catch e {
                log = log + ["caught " + e]
              }
              try { throw {code: 7} } catch e { log = log + [e.code] }
              try { log = log + ["fine"] } catch e { log = log + ["never"] }
              return log
            }
            """).success == ["before", "caught oops", 7, "fine"])
    }

    @Test func tryCatchBindsRuntimeErrors() {
        #expect(runProgram("""
            fn main() {
              try { let _x = 1 / 0 } catch e { return e }
            }
            """).success == ["error": "division by zero", "code": "division-by-zero"])
        #expect(runProgram("""
            fn main() {
              try { let _y = [1] + 2 } catch e { return e.code }
            }
            """).success == "type-error")
    }

    @Test func catchWithoutVariableAndRethrow() {
        #expect(runProgram("""
            fn main() {
              var r = 0
              try { throw 1 } catch { r = 1 }
              try {
                try { throw 2 } catch e { throw e + 10 }
              } catch e { r = r + e }
              return r
            }
            """).success == 13)
    }

    @Test func hostErrorsAreCatchableWithExtraFields() {
        let host = InterpreterTestHost()
        host.deny("orders")
        let result = runProgram("""
            table orders
            service pay "https://pay.example.com"
            fn main() {
              var out = []
              try { orders.put("k", 1) } catch e { out = out + [e] }
              try { pay.post("/fail", {}) } catch e { out = out + [e] }
              return out
            }
            """, host: host)
        #expect(result.success == [
            ["error": "not allowed to put orders", "code": "access-denied", "resource": "orders"],
            ["error": "pay answered 502", "code": "service-error", "status": 502, "body": ["error": "bad gateway"]],
        ])
    }

    @Test func hostErrorsGetTheCallRangeAndStack() {
        let host = InterpreterTestHost()
        host.deny("orders")
        let text = "table orders\nfn main() {\n  orders.get(\"k\")\n}\n"
        let error = runProgram(text, host: host).error
        #expect(error?.code == "access-denied")
        #expect(error?.stack == ["main"])
        let range = error?.range
        #expect(range.map { String(decoding: Array(text.utf8)[$0.start..<$0.end], as: UTF8.self) } == "orders.get(\"k\")")
    }

    @Test func sleepPassesMillisecondsToTheHost() {
        let host = InterpreterTestHost()
        #expect(runProgram("fn main() {\n sleep 2s\n sleep 250ms\n let n = 5\n sleep n * 2\n}", host: host).success == .null)
        #expect(host.sleeps == [2000, 250, 10])
        #expect(runProgram("fn main() {\n sleep -1\n}").error?.code == "invalid-argument")
        #expect(runProgram("fn main() {\n sleep \"1s\"\n}").error?.code == "invalid-argument")
    }

    @Test(arguments: [false, true])
    func parallelBindingsAreVisibleAfter(concurrent: Bool) {
        let host = InterpreterTestHost(concurrent: concurrent)
        #expect(runProgram("""
            table t
            fn slow(n) {
              var i = 0
              while i < 200 { i = i + 1 }
              return n * 10
            }
            fn main() {
              var shared = "before"
              var untouched = "same"
              parallel {
                let a = slow(1)
                let b = slow(2)
                t.put("k", "v")
                shared = "first"
                if false { shared = "never" }
                shared = "last"
              }
              return [a, b, shared, untouched, t.get("k")]
            }
            """, host: host).success == [10, 20, "last", "same", "v"])
    }

    @Test func parallelBranchesSeeTheStateBeforeTheBlock() {
        #expect(runProgram("""
            fn main() {
              var x = 1
              parallel {
                x = x + 10
                x = x + 100
              }
              return x
            }
            """).success == 101)
    }

    @Test(arguments: [false, true])
    func parallelRethrowsABranchError(concurrent: Bool) {
        let result = runProgram("""
            fn main() {
              try {
                parallel {
                  let _a = 1
                  throw "branch failed"
                }
              } catch e { return e }
              return "no error"
            }
            """, host: InterpreterTestHost(concurrent: concurrent))
        #expect(result.success == "branch failed")
    }

    @Test func nestedParallelMergesOutward() {
        #expect(runProgram("""
            fn main() {
              var log = []
              parallel {
                parallel {
                  let inner = 1
                  log = log + ["inner"]
                }
                let outer = 2
              }
              return [inner, outer, log]
            }
            """, host: InterpreterTestHost(concurrent: true)).success == [1, 2, ["inner"]])
    }
}
