// Emit stage (AWS target): least privilege in IAM. Each plan permission becomes exactly the IAM
// actions it needs on exactly the ARN of its resource; each role adds only the execution basics
// of its kind. docs/aws.md prints both tables; the tests check every statement against them.

/// Whose ARN a statement names.
enum IAMResource: Hashable, Sendable {
    case table(ResourceID)
    /// The bucket itself (listing).
    case bucket(ResourceID)
    /// The bucket's objects, `bucket/*`.
    case bucketObjects(ResourceID)
    case topic(ResourceID)
    case queue(QueueID)
    /// A queue's dead-letter queue (by the queue's id).
    case deadLetterQueue(QueueID)
    case stateMachine(WorkflowID)
    case secret(ResourceID)
    case function(FunctionID)
    /// A function's own log group (the role's owner).
    case functionLogGroup(FunctionID)
    /// The executions of a state machine (`…:execution:STACK-NAME:*`).
    case executions(WorkflowID)
    /// The EventBridge rule Step Functions manages to learn that a child execution ended.
    case syncRule
    /// The table of the services' rates (`InfcServiceRates`).
    case serviceRates
    /// Actions for which AWS defines no resource narrower than `*` (listed in docs/aws.md).
    case any
}

/// Why a role may do something: a permission of the plan, or an execution basic of its kind.
enum IAMOrigin: Hashable, Sendable {
    case permission(Permission)
    case basic(ExecutionBasic)
}

/// What every role of a kind needs to run at all, whatever its code does.
public enum ExecutionBasic: String, Sendable, CaseIterable {
    /// A function writes its log streams to its own log group.
    case functionLogs = "function-logs"
    /// A function sends its X-Ray trace segments (AWS defines no resource for them).
    case functionTracing = "function-tracing"
    /// A queue consumer's event source mapping receives and deletes on its own queue.
    case queueConsumer = "queue-consumer"
    /// A queue consumer sends a message that failed beyond any retry to the dead letters itself.
    case queueDeadLetters = "queue-dead-letters"
    /// A state machine delivers its execution log (log delivery APIs take no resource).
    case stateMachineLogDelivery = "state-machine-log-delivery"
    /// A state machine sends X-Ray segments and reads sampling rules (no resource either).
    case stateMachineTracing = "state-machine-tracing"
    /// A schedule's rule starts its workflow.
    case scheduleStartsWorkflow = "schedule-starts-workflow"
    /// A state machine that runs a child workflow and waits (`startExecution.sync:2`) follows
    /// and may stop the child's executions...
    case childExecutions = "child-executions"
    /// ...and has Step Functions' managed rule report their end.
    case childCompletionRule = "child-completion-rule"
    /// A function that calls a service with a `rate` takes and gives back its slots in the
    /// shared rate table (conditional writes only: it never reads or deletes).
    case serviceRate = "service-rate"

    public var actions: [String] {
        switch self {
        case .functionLogs: return ["logs:CreateLogStream", "logs:PutLogEvents"]
        case .functionTracing: return ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
        case .queueConsumer: return ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]
        case .queueDeadLetters: return ["sqs:SendMessage"]
        case .stateMachineLogDelivery:
            return ["logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies",
                    "logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery"]
        case .stateMachineTracing:
            return ["xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments"]
        case .scheduleStartsWorkflow: return ["states:StartExecution"]
        case .childExecutions: return ["states:DescribeExecution", "states:StopExecution"]
        case .childCompletionRule: return ["events:DescribeRule", "events:PutRule", "events:PutTargets"]
        case .serviceRate: return ["dynamodb:PutItem"]
        }
    }

    /// Whether AWS gives these actions no narrower resource than `*`.
    public var needsWildcard: Bool {
        switch self {
        case .functionTracing, .stateMachineLogDelivery, .stateMachineTracing: return true
        case .functionLogs, .queueConsumer, .scheduleStartsWorkflow, .childExecutions, .childCompletionRule, .serviceRate, .queueDeadLetters: return false
        }
    }
}

/// One statement: allow `actions` on `resource`, because of `origin`.
struct IAMStatement: Hashable, Sendable {
    var actions: [String]
    var resource: IAMResource
    var origin: IAMOrigin
}

enum IAMMapping {
    /// The IAM actions and the resource a plan permission needs, or nil when it needs none (a
    /// service call is plain HTTPS outside AWS).
    static func statement(for p: Permission) -> IAMStatement? {
        let r = ResourceID(p.resource)
        let origin = IAMOrigin.permission(p)
        switch (p.type, p.action) {
        case (.table, .read): return IAMStatement(actions: ["dynamodb:GetItem"], resource: .table(r), origin: origin)
        case (.table, .list): return IAMStatement(actions: ["dynamodb:Scan"], resource: .table(r), origin: origin)
        case (.table, .write): return IAMStatement(actions: ["dynamodb:DeleteItem", "dynamodb:PutItem"], resource: .table(r), origin: origin)
        case (.bucket, .read): return IAMStatement(actions: ["s3:GetObject"], resource: .bucketObjects(r), origin: origin)
        case (.bucket, .write): return IAMStatement(actions: ["s3:DeleteObject", "s3:PutObject"], resource: .bucketObjects(r), origin: origin)
        case (.bucket, .list): return IAMStatement(actions: ["s3:ListBucket"], resource: .bucket(r), origin: origin)
        case (.topic, .publish): return IAMStatement(actions: ["sns:Publish"], resource: .topic(r), origin: origin)
        case (.queue, .send): return IAMStatement(actions: ["sqs:SendMessage"], resource: .queue(QueueID(p.resource)), origin: origin)
        case (.workflow, .start): return IAMStatement(actions: ["states:StartExecution"], resource: .stateMachine(WorkflowID(p.resource)), origin: origin)
        case (.secret, .read): return IAMStatement(actions: ["secretsmanager:GetSecretValue"], resource: .secret(r), origin: origin)
        case (.function, .invoke): return IAMStatement(actions: ["lambda:InvokeFunction"], resource: .function(FunctionID(p.resource)), origin: origin)
        case (.service, _): return nil
        default:
            // The inference grants no other pairs (ResourceOperation.action, Inference): a bug.
            preconditionFailure("no IAM mapping for \(p.type.rawValue) \(p.action.rawValue)")
        }
    }

    /// The statements of a function's role: its permissions, then its execution basics.
    static func functionStatements(_ f: PlanFunction, consumes queues: [QueueID], callsRatedService: Bool = false) -> [IAMStatement] {
        var out = f.permissions.compactMap(statement(for:))
        if callsRatedService {
            out.append(IAMStatement(actions: ExecutionBasic.serviceRate.actions, resource: .serviceRates, origin: .basic(.serviceRate)))
        }
        out.append(IAMStatement(actions: ExecutionBasic.functionLogs.actions, resource: .functionLogGroup(f.name), origin: .basic(.functionLogs)))
        out.append(IAMStatement(actions: ExecutionBasic.functionTracing.actions, resource: .any, origin: .basic(.functionTracing)))
        for q in queues {
            out.append(IAMStatement(actions: ExecutionBasic.queueConsumer.actions, resource: .queue(q), origin: .basic(.queueConsumer)))
            out.append(IAMStatement(actions: ExecutionBasic.queueDeadLetters.actions, resource: .deadLetterQueue(q), origin: .basic(.queueDeadLetters)))
        }
        return out
    }

    /// The statements of a state machine's role: its permissions, then its execution basics.
    static func workflowStatements(_ w: PlanWorkflow) -> [IAMStatement] {
        var out = w.permissions.compactMap(statement(for:))
        out.append(IAMStatement(actions: ExecutionBasic.stateMachineLogDelivery.actions, resource: .any, origin: .basic(.stateMachineLogDelivery)))
        out.append(IAMStatement(actions: ExecutionBasic.stateMachineTracing.actions, resource: .any, origin: .basic(.stateMachineTracing)))
        let children = childWorkflows(w.states)
        for c in children {
            out.append(IAMStatement(actions: ExecutionBasic.childExecutions.actions, resource: .executions(c), origin: .basic(.childExecutions)))
        }
        if !children.isEmpty {
            out.append(IAMStatement(actions: ExecutionBasic.childCompletionRule.actions, resource: .syncRule, origin: .basic(.childCompletionRule)))
        }
        return out
    }

    /// The workflows a state graph runs as children and waits for, sorted, once each.
    static func childWorkflows(_ states: [WorkflowState]) -> [WorkflowID] {
        var out: Set<WorkflowID> = []
        states.forEachState { s in
            if case .childWorkflow(let w) = s.kind { out.insert(w) }
        }
        return out.sorted()
    }

    /// The statement of the role a workflow's schedule assumes.
    static func scheduleStatements(workflow: WorkflowID) -> [IAMStatement] {
        [IAMStatement(actions: ExecutionBasic.scheduleStartsWorkflow.actions, resource: .stateMachine(workflow), origin: .basic(.scheduleStartsWorkflow))]
    }
}
