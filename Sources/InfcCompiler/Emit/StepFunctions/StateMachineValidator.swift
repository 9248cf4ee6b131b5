// Emit stage (AWS target): checks every state machine definition before it is written. A
// violation is a compiler bug (the build fails with it): every StartAt/Next/Default names a state
// of its scope, names are unique, every state is reachable and can reach an end, each Task's
// resource is an integration infc uses with the right kind of resource, and no literal payload
// exceeds the 256 KB state limit (nor the definition the 1 MB limit).

enum StateMachineValidator {
    static let stateLimit = 256 * 1024
    static let definitionLimit = 1024 * 1024

    /// The integrations infc emits, with the parameter that names their resource and its kind.
    static let integrations: [String: (parameter: String, kind: String)] = [
        "arn:aws:states:::dynamodb:getItem": ("TableName", "table"),
        "arn:aws:states:::dynamodb:putItem": ("TableName", "table"),
        "arn:aws:states:::dynamodb:deleteItem": ("TableName", "table"),
        "arn:aws:states:::sns:publish": ("TopicArn", "topic"),
        "arn:aws:states:::sqs:sendMessage": ("QueueUrl", "queue"),
        "arn:aws:states:::states:startExecution": ("StateMachineArn", "stateMachine"),
        "arn:aws:states:::states:startExecution.sync:2": ("StateMachineArn", "stateMachine"),
    ]

    /// The problems of `definition`, each one line; empty when it is valid. `references` maps
    /// each placeholder (without `${}`) to the kind of resource it stands for.
    static func validate(_ definition: JSON, references: [String: String]) -> [String] {
        var problems: [String] = []
        var names: Set<String> = []
        let size = definition.serialized().utf8.count
        if size > definitionLimit { problems.append("the definition is \(size) bytes, over Step Functions' \(definitionLimit)") }
        scope(definition, path: "", references: references, names: &names, problems: &problems)
        placeholders(definition, references: references, problems: &problems)
        return problems
    }

    /// Every `${` of the definition's text opens a placeholder of `references`: CloudFormation's
    /// DefinitionSubstitutions substitutes each `${NAME}` (and refuses an unknown one), so any
    /// other `${` would not reach Step Functions as written.
    private static func placeholders(_ value: JSON, references: [String: String], problems: inout [String]) {
        switch value {
        case .string(let text):
            let bytes = Array(text.utf8)
            var i = 0
            while i + 1 < bytes.count {
                guard bytes[i] == UInt8(ascii: "$"), bytes[i + 1] == UInt8(ascii: "{") else { i += 1; continue }
                let start = i + 2
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: "}") { end += 1 }
                guard end < bytes.count, references[String(decoding: bytes[start..<end], as: UTF8.self)] != nil else {
                    problems.append("text with `${` that is no placeholder: \(text.prefix(80))")
                    return
                }
                i = end + 1
            }
        case .array(let items): for item in items { placeholders(item, references: references, problems: &problems) }
        case .object(let o):
            for (key, item) in o {
                placeholders(.string(key), references: references, problems: &problems)
                placeholders(item, references: references, problems: &problems)
            }
        default: break
        }
    }

    private static func scope(_ machine: JSON, path: String, references: [String: String], names: inout Set<String>,
                              problems: inout [String]) {
        let at = path.isEmpty ? "" : " in \(path)"
        guard let states = machine["States"]?.objectValue, !states.isEmpty else {
            problems.append("no States\(at)")
            return
        }
        guard let start = machine["StartAt"]?.stringValue else {
            problems.append("no StartAt\(at)")
            return
        }
        if states[start] == nil { problems.append("StartAt names no state: \(start)\(at)") }
        var edges: [String: [String]] = [:]
        var terminal: Set<String> = []
        for (name, state) in states {
            if !names.insert(name).inserted { problems.append("state name used twice: \(name)") }
            if name.count > 80 { problems.append("state name longer than 80 characters: \(name)") }
            guard let type = state["Type"]?.stringValue else {
                problems.append("state \(name) has no Type")
                continue
            }
            var targets: [String] = []
            if let n = state["Next"]?.stringValue { targets.append(n) }
            let ends = state["End"]?.boolValue == true
            switch type {
            case "Choice":
                guard let choices = state["Choices"]?.arrayValue, !choices.isEmpty else {
                    problems.append("choice \(name) has no Choices")
                    continue
                }
                for c in choices {
                    guard let n = c["Next"]?.stringValue else {
                        problems.append("a rule of choice \(name) has no Next")
                        continue
                    }
                    targets.append(n)
                }
                if let d = state["Default"]?.stringValue { targets.append(d) } else { problems.append("choice \(name) has no Default") }
            case "Succeed", "Fail":
                terminal.insert(name)
            case "Task", "Pass", "Wait", "Map", "Parallel":
                if ends == (state["Next"] != nil) { problems.append("state \(name) must have exactly one of Next and End") }
                if ends { terminal.insert(name) }
            default:
                problems.append("state \(name) has an unknown Type \(type)")
            }
            for c in state["Catch"]?.arrayValue ?? [] {
                if let n = c["Next"]?.stringValue { targets.append(n) } else { problems.append("a catcher of \(name) has no Next") }
            }
            for t in targets where states[t] == nil { problems.append("state \(name) goes to \(t), which is no state\(at)") }
            edges[name] = targets.filter { states[$0] != nil }
            if type == "Task" { task(name, state, references: references, problems: &problems) }
            if let p = state["Parameters"], p.serialized().utf8.count > stateLimit {
                problems.append("state \(name) passes more than \(stateLimit) bytes")
            }
            for (i, b) in (state["Branches"]?.arrayValue ?? []).enumerated() {
                scope(b, path: "branch \(i + 1) of \(name)", references: references, names: &names, problems: &problems)
            }
            if type == "Map" {
                guard let processor = state["ItemProcessor"] else {
                    problems.append("map \(name) has no ItemProcessor")
                    continue
                }
                scope(processor, path: "the items of \(name)", references: references, names: &names, problems: &problems)
            }
        }
        // Reachable from StartAt.
        var seen: Set<String> = []
        var stack = states[start] != nil ? [start] : []
        while let n = stack.popLast() {
            guard seen.insert(n).inserted else { continue }
            stack += edges[n] ?? []
        }
        for name in states.keys where !seen.contains(name) { problems.append("state \(name) cannot be reached\(at)") }
        // Every state can reach an end.
        var reverse: [String: [String]] = [:]
        for (from, tos) in edges { for t in tos { reverse[t, default: []].append(from) } }
        var ending = terminal
        var work = Array(terminal)
        while let n = work.popLast() {
            for p in reverse[n] ?? [] where ending.insert(p).inserted { work.append(p) }
        }
        for name in states.keys where !ending.contains(name) { problems.append("state \(name) never reaches an end\(at)") }
    }

    private static func task(_ name: String, _ state: JSON, references: [String: String], problems: inout [String]) {
        guard let resource = state["Resource"]?.stringValue else {
            problems.append("task \(name) has no Resource")
            return
        }
        if let placeholder = Self.placeholder(resource) {
            if references[placeholder] != "function" { problems.append("task \(name) runs \(resource), which is no function") }
            return
        }
        guard let integration = integrations[resource] else {
            problems.append("task \(name) uses \(resource), which is no integration infc emits")
            return
        }
        guard let value = state["Parameters"]?[integration.parameter]?.stringValue, let p = Self.placeholder(value),
              references[p] == integration.kind else {
            problems.append("task \(name) (\(resource)) must name a \(integration.kind) in \(integration.parameter)")
            return
        }
    }

    /// `X` of a whole-string `${X}`.
    static func placeholder(_ s: String) -> String? {
        guard s.hasPrefix("${"), s.hasSuffix("}"), s.count > 3 else { return nil }
        return String(s.dropFirst(2).dropLast())
    }
}
