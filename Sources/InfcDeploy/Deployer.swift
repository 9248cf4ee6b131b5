// Deploy: `infc deploy` and `infc destroy` as a sequence of AWS calls — the artifact bucket (created
// when missing), the package uploaded under its hash (skipped when there), a change set that creates
// or updates the stack, its events printed as they come with a progress line, the outputs; and the
// deletion that keeps retained data. Pure of files and terminals: it is handed bytes, clients, a
// line printer and a sleep.
import InfcAWS
import InfcCompiler

/// A deployment that did not happen or did not succeed: one line, with what to do next.
public struct DeployError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    /// Whether AWS refused or undid the change (a failed stack) rather than it never starting.
    public var stackFailed: Bool
    public init(_ description: String, stackFailed: Bool = false) {
        self.description = description
        self.stackFailed = stackFailed
    }
}

/// What `infc deploy` deploys.
public struct DeployRequest: Sendable {
    public var stack: String
    public var app: String
    /// template.json, as `infc build --target aws` writes it.
    public var template: [UInt8]
    /// The template's logical resource ids (for the progress line).
    public var resourceCount: Int
    public var package: LambdaPackage.Built
    /// `--bucket`; by default `infc-artifacts-ACCOUNT-REGION`.
    public var bucket: String?
    /// The app's declared secrets, and the values to set (nil when no `--secrets` file was given).
    public var secrets: [String]
    public var secretValues: [String: String]?

    public init(stack: String, app: String, template: [UInt8], resourceCount: Int, package: LambdaPackage.Built,
                bucket: String? = nil, secrets: [String] = [], secretValues: [String: String]? = nil) {
        self.stack = stack
        self.app = app
        self.template = template
        self.resourceCount = resourceCount
        self.package = package
        self.bucket = bucket
        self.secrets = secrets
        self.secretValues = secretValues
    }
}

public final class Deployer: Sendable {
    let region: String
    let cloudFormation: CloudFormation
    let s3: S3
    let sts: STS
    let secretsManager: SecretsManager
    let say: @Sendable (String) -> Void
    let sleep: @Sendable (Double) -> Void
    let now: @Sendable () -> Int

    /// CloudFormation's limit on an inline template; larger ones go through the artifact bucket.
    public static let inlineTemplateLimit = 51_200

    /// `say` prints one line; `sleep` waits between polls (seconds); `now` names change sets.
    public init(client: AWSClient, say: @escaping @Sendable (String) -> Void, sleep: @escaping @Sendable (Double) -> Void,
                now: @escaping @Sendable () -> Int) {
        region = client.environment.region
        cloudFormation = CloudFormation(client)
        s3 = S3(client)
        sts = STS(client)
        secretsManager = SecretsManager(client)
        self.say = say
        self.sleep = sleep
        self.now = now
    }

    // MARK: deploy

    /// Deploys `r`: returns the stack's outputs, or throws what went wrong in one line.
    @discardableResult
    public func deploy(_ r: DeployRequest) throws(DeployError) -> [CloudFormation.Output] {
        let existing = try aws("read stack \(r.stack)") { () throws(AWSError) in try cloudFormation.describeStack(r.stack) }
        let type = try changeSetType(stack: r.stack, existing)

        let bucket = try artifactBucket(r.bucket)
        let key = LambdaPackage.key(app: r.app, sha256: r.package.sha256)
        let present = try aws("read s3://\(bucket)/\(key)") { () throws(AWSError) in try s3.objectExists(bucket: bucket, key: key) }
        if present {
            say("package \(r.package.sha256.prefix(16)) is already in s3://\(bucket)/\(key): not uploaded again")
        } else {
            try aws("upload the package to s3://\(bucket)/\(key)") { () throws(AWSError) in
                try s3.putObject(bucket: bucket, key: key, body: r.package.zip, contentType: "application/zip")
            }
            say("uploaded the package (\(Self.size(r.package.zip.count))) to s3://\(bucket)/\(key)")
        }
        let template = try templateSource(r, bucket: bucket)

        let name = "infc-\(now())"
        let created: (id: String, stackID: String)
        do {
            created = try cloudFormation.createChangeSet(
                stack: r.stack, name: name, type: type, template: template,
                parameters: [("CodeBucket", bucket), ("CodeKey", key)],
                capabilities: ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"], description: "infc deploy of \(r.app)")
        } catch where Self.meansNoChanges(error.message) {
            return try upToDate(r)
        } catch {
            throw DeployError("CloudFormation refused the change to stack \(r.stack): \(error.code): \(error.message)", stackFailed: true)
        }
        let changeSet = try waitForChangeSet(created.id, stack: r.stack)
        if changeSet.status == "FAILED" {
            if Self.meansNoChanges(changeSet.statusReason ?? "") {
                try? cloudFormation.deleteChangeSet(created.id)
                return try upToDate(r)
            }
            throw DeployError("CloudFormation refused the change to stack \(r.stack): \(changeSet.statusReason ?? "change set FAILED")", stackFailed: true)
        }
        say(Self.changeSummary(changeSet.changes, type: type))

        // Events already there (an update's history) are not this deployment's.
        let seen = try type == .update ? eventIDs(created.stackID) : []
        do {
            try cloudFormation.executeChangeSet(created.id)
        } catch where error.status >= 400 && error.status != 403 && !error.isRetryable {
            throw DeployError("CloudFormation could not carry out the change to stack \(r.stack): \(error.code): \(error.message)", stackFailed: true)
        } catch {
            throw aws("execute the change set", error)
        }
        say("\(type == .create ? "creating" : "updating") stack \(r.stack) in \(region)")
        let total = type == .create ? r.resourceCount : max(changeSet.changes.count, 1)
        let final = try follow(stackID: created.stackID, name: r.stack, seen: seen, total: total) { $0.hasSuffix("_IN_PROGRESS") || $0 == "REVIEW_IN_PROGRESS" }

        guard final.stack.status == "CREATE_COMPLETE" || final.stack.status == "UPDATE_COMPLETE" else {
            throw failure(of: final, stack: r.stack)
        }
        say("stack \(r.stack): \(final.stack.status)")
        try pushSecrets(r)
        printOutputs(final.stack.outputs)
        return final.stack.outputs
    }

    /// A stack of this status takes a CREATE change set (none, or a create never executed), an
    /// UPDATE one, or none at all (busy, or failed in a way only its removal or AWS mends).
    func changeSetType(stack name: String, _ stack: CloudFormation.Stack?) throws(DeployError) -> CloudFormation.ChangeSetType {
        guard let stack else { return .create }
        let s = stack.status
        let reason = stack.statusReason.map { " (\($0))" } ?? ""
        switch s {
        case "REVIEW_IN_PROGRESS":
            return .create
        case "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_FAILED":
            throw DeployError("stack \(name) is in \(s) after a failed create or delete\(reason); it cannot be updated: remove it with 'infc destroy --stack \(name)', then deploy again")
        case "UPDATE_ROLLBACK_FAILED":
            throw DeployError("stack \(name) is in UPDATE_ROLLBACK_FAILED\(reason); finish the rollback with 'aws cloudformation continue-update-rollback --stack-name \(name)', then deploy again")
        default:
            if s.hasSuffix("_IN_PROGRESS") {
                throw DeployError("stack \(name) is busy (\(s)); wait until it finishes, then deploy again")
            }
            return .update
        }
    }

    /// `--bucket`, else `infc-artifacts-ACCOUNT-REGION`; created when missing.
    func artifactBucket(_ explicit: String?) throws(DeployError) -> String {
        let bucket: String
        if let explicit {
            bucket = explicit
        } else {
            let account = try aws("find the account (sts:GetCallerIdentity)") { () throws(AWSError) in try sts.account() }
            bucket = "infc-artifacts-\(account)-\(region)"
        }
        let exists: Bool
        do {
            exists = try s3.bucketExists(bucket)
        } catch where error.status == 403 {
            throw DeployError("the artifact bucket \(bucket) exists but these credentials may not use it (HTTP 403: another account's, or no s3:ListBucket permission); pass --bucket NAME of a bucket you own")
        } catch {
            throw DeployError("cannot read the artifact bucket \(bucket): \(error)")
        }
        if !exists {
            try aws("create the artifact bucket \(bucket)") { () throws(AWSError) in try s3.createBucket(bucket) }
            say("created the artifact bucket s3://\(bucket)")
        }
        return bucket
    }

    /// Inline when it fits CloudFormation's limit, else uploaded beside the package.
    func templateSource(_ r: DeployRequest, bucket: String) throws(DeployError) -> CloudFormation.TemplateSource {
        if r.template.count <= Self.inlineTemplateLimit { return .body(String(decoding: r.template, as: UTF8.self)) }
        let key = "\(r.app)/\(SHA256.hex(r.template)).template.json"
        try aws("upload the template to s3://\(bucket)/\(key)") { () throws(AWSError) in
            if try !s3.objectExists(bucket: bucket, key: key) {
                try s3.putObject(bucket: bucket, key: key, body: r.template, contentType: "application/json")
            }
        }
        say("the template (\(Self.size(r.template.count)), over CloudFormation's \(Self.size(Self.inlineTemplateLimit)) inline limit) is read from s3://\(bucket)/\(key)")
        return .url(s3.awsObjectURL(bucket: bucket, key: key))
    }

    /// Polls the change set until CloudFormation has computed it (or refused it).
    func waitForChangeSet(_ id: String, stack: String) throws(DeployError) -> CloudFormation.ChangeSet {
        var wait = 1.0
        while true {
            let c = try aws("read the change set") { () throws(AWSError) in try cloudFormation.describeChangeSet(id) }
            if c.status == "CREATE_COMPLETE" || c.status == "FAILED" { return c }
            if c.status.hasPrefix("DELETE") {
                throw DeployError("the change set of stack \(stack) was deleted (\(c.status)) before it ran; deploy again")
            }
            sleep(wait)
            wait = min(wait * 1.5, 5)
        }
    }

    /// "No updates are to be performed." (CreateChangeSet) or "The submitted information didn't
    /// contain changes." (a FAILED change set): both mean the stack already is what was asked.
    static func meansNoChanges(_ message: String) -> Bool {
        message.contains("No updates are to be performed") || message.contains("didn't contain changes")
    }

    func upToDate(_ r: DeployRequest) throws(DeployError) -> [CloudFormation.Output] {
        say("stack \(r.stack) is up to date: no changes to deploy")
        try pushSecrets(r)
        let stack = try aws("read stack \(r.stack)") { () throws(AWSError) in try cloudFormation.describeStack(r.stack) }
        let outputs = stack?.outputs ?? []
        printOutputs(outputs)
        return outputs
    }

    static func changeSummary(_ changes: [CloudFormation.Change], type: CloudFormation.ChangeSetType) -> String {
        let add = changes.filter { $0.action == "Add" }.count
        let modify = changes.filter { $0.action == "Modify" }.count
        let remove = changes.filter { $0.action == "Remove" }.count
        let replace = changes.filter { $0.action == "Modify" && $0.replacement == "True" }.count
        var s = "change set: \(add) to add, \(modify) to modify, \(remove) to remove"
        if replace > 0 { s += " (\(replace) replaced)" }
        if changes.isEmpty && type == .create { s = "change set: the stack's resources are created" }
        return s
    }

    // MARK: following a stack operation

    struct Followed {
        var stack: CloudFormation.Stack
        /// This operation's events, oldest first.
        var events: [CloudFormation.Event]
    }

    /// The ids of the stack's newest events (the first page): the events of what follows all come
    /// before them, so reading stops at any of these, however long the stack's history.
    func eventIDs(_ stack: String) throws(DeployError) -> Set<String> {
        let page = try aws("read the stack's events") { () throws(AWSError) in try cloudFormation.describeStackEvents(stack) }
        return Set(page.events.map(\.id))
    }

    /// The events not in `seen`, oldest first: pages are read (newest first) until one holds a
    /// seen event.
    func newEvents(_ stack: String, seen: Set<String>) throws(DeployError) -> [CloudFormation.Event] {
        var fresh: [CloudFormation.Event] = []
        var token: String?
        repeat {
            let page = try aws("read the stack's events") { () throws(AWSError) in try cloudFormation.describeStackEvents(stack, nextToken: token) }
            var reachedSeen = false
            for e in page.events {
                if seen.contains(e.id) { reachedSeen = true; break }
                fresh.append(e)
            }
            token = reachedSeen ? nil : page.next
        } while token != nil
        return fresh.reversed()
    }

    /// Prints each new event and a progress line until `busy` says the stack's status is final.
    func follow(stackID: String, name: String, seen initial: Set<String>, total: Int,
                busy: (String) -> Bool) throws(DeployError) -> Followed {
        var seen = initial
        var all: [CloudFormation.Event] = []
        var done = Set<String>()
        var wait = 1.0
        while true {
            // The status first: events up to a final status are all in the page read after it.
            let stack: CloudFormation.Stack?
            let fresh: [CloudFormation.Event]
            do {
                stack = try aws("read stack \(name)") { () throws(AWSError) in try cloudFormation.describeStack(stackID) }
                fresh = try newEvents(stackID, seen: seen)
            } catch {
                throw DeployError(error.description + "; the stack's operation goes on in AWS: follow it with 'aws cloudformation describe-stack-events --stack-name \(name)'")
            }
            for e in fresh {
                seen.insert(e.id)
                all.append(e)
                say(Self.line(e))
                if e.resourceType != "AWS::CloudFormation::Stack", e.status.hasSuffix("_COMPLETE") || e.status == "DELETE_SKIPPED" {
                    done.insert(e.logicalID)
                }
            }
            if !fresh.isEmpty, !done.isEmpty { say("  … \(min(done.count, total)) of \(total) resources done") }
            guard let stack else {
                // Gone: a deleted stack is no longer found by name (by id it is, as DELETE_COMPLETE).
                return Followed(stack: CloudFormation.Stack(id: stackID, name: name, status: "DELETE_COMPLETE", statusReason: nil, outputs: []), events: all)
            }
            if !busy(stack.status) { return Followed(stack: stack, events: all) }
            sleep(wait)
            wait = min(wait * 1.5, 5)
        }
    }

    /// `12:00:03  CREATE_COMPLETE  AWS::DynamoDB::Table  OrdersTable  (reason)`.
    static func line(_ e: CloudFormation.Event) -> String {
        let time = e.timestamp.count >= 19 ? String(Array(e.timestamp)[11..<19]) : e.timestamp
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        var s = "  \(time)  \(pad(e.status, 20))  \(pad(e.resourceType, 36))  \(e.logicalID)"
        if let reason = e.reason, e.status.contains("FAILED") || e.status.contains("ROLLBACK") || e.status.contains("SKIPPED") { s += "  (\(reason))" }
        return s
    }

    /// The failed operation in one line: the first resource that failed, and AWS's reason.
    func failure(of f: Followed, stack: String) -> DeployError {
        let cancelled = ["Resource creation cancelled", "Resource update cancelled"]
        let failed = f.events.first {
            $0.status.hasSuffix("_FAILED") && $0.resourceType != "AWS::CloudFormation::Stack" && !cancelled.contains($0.reason ?? "")
        } ?? f.events.first { $0.status.hasSuffix("_FAILED") && $0.resourceType != "AWS::CloudFormation::Stack" }
        let cause = failed.map { "\($0.logicalID) (\($0.resourceType)) \($0.status): \($0.reason ?? "no reason given")" }
            ?? "\(f.stack.status): \(f.stack.statusReason ?? "no reason given")"
        let next: String
        switch f.stack.status {
        case "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED":
            next = "the stack is \(f.stack.status): fix the cause, remove it with 'infc destroy --stack \(stack)', and deploy again"
        case "UPDATE_ROLLBACK_COMPLETE":
            next = "the stack rolled back to its previous version: fix the cause and deploy again"
        case "UPDATE_ROLLBACK_FAILED":
            next = "the rollback failed too: 'aws cloudformation continue-update-rollback --stack-name \(stack)', then deploy again"
        default:
            next = "the stack is \(f.stack.status)"
        }
        return DeployError("deploying stack \(stack) failed: \(cause); \(next)", stackFailed: true)
    }

    // MARK: secrets and outputs

    /// Sets each declared secret that has a value (PutSecretValue, or CreateSecret when the
    /// stack has not made it): names only are printed, never values.
    func pushSecrets(_ r: DeployRequest) throws(DeployError) {
        guard let values = r.secretValues else { return }
        for name in r.secrets {
            guard let value = values[name] else {
                say("secret \(name): no value given (INFC_SECRET_\(name.uppercased())); left as it is")
                continue
            }
            let id = "\(r.stack)/\(name)"
            do {
                try secretsManager.putSecretValue(id, value: value)
                say("secret \(name): value set (\(id))")
            } catch where error.code == "ResourceNotFoundException" {
                try aws("create secret \(id)") { () throws(AWSError) in
                    try secretsManager.createSecret(id, value: value, description: "infc secret \(name) of app \(r.app)")
                }
                say("secret \(name): created with its value (\(id))")
            } catch {
                throw DeployError("cannot set secret \(name) (\(id)): \(error.code): \(error.message)")
            }
        }
    }

    func printOutputs(_ outputs: [CloudFormation.Output]) {
        guard !outputs.isEmpty else {
            say("outputs: none reported by the stack")
            return
        }
        say("outputs:")
        let width = outputs.map(\.key.count).max() ?? 0
        for o in outputs {
            say("  \(o.key)\(String(repeating: " ", count: width - o.key.count))  \(o.value)")
        }
    }

    // MARK: destroy

    /// Deletes the stack; lists what it keeps (`DeletionPolicy: Retain`). A missing stack is no error.
    public func destroy(stack name: String) throws(DeployError) {
        guard let stack = try aws("read stack \(name)", { () throws(AWSError) in try cloudFormation.describeStack(name) }) else {
            say("stack \(name) does not exist in \(region): nothing to delete")
            return
        }
        if stack.status.hasSuffix("_IN_PROGRESS") && stack.status != "REVIEW_IN_PROGRESS" {
            throw DeployError("stack \(name) is busy (\(stack.status)); wait until it finishes, then destroy it")
        }
        let retained = try retainedResources(stack.id)
        let seen = try eventIDs(stack.id)
        try aws("delete stack \(name)") { () throws(AWSError) in try cloudFormation.deleteStack(stack.id) }
        say("deleting stack \(name) in \(region)")
        let final = try follow(stackID: stack.id, name: name, seen: seen, total: max(retained.total, 1)) { $0 == "DELETE_IN_PROGRESS" }
        guard final.stack.status == "DELETE_COMPLETE" else {
            let failed = final.events.first { $0.status == "DELETE_FAILED" && $0.resourceType != "AWS::CloudFormation::Stack" }
            let cause = failed.map { "\($0.logicalID) (\($0.resourceType)): \($0.reason ?? "no reason given")" }
                ?? "\(final.stack.status): \(final.stack.statusReason ?? "no reason given")"
            throw DeployError("deleting stack \(name) failed: \(cause); fix the cause (or delete that resource by hand), then destroy again", stackFailed: true)
        }
        say("stack \(name) deleted")
        if !retained.kept.isEmpty {
            say("kept with their data (DeletionPolicy Retain); delete them by hand when the data is no longer needed:")
            for r in retained.kept { say("  \(r.resourceType)  \(r.logicalID)  \(r.physicalID)") }
        }
    }

    /// The stack's resources whose template says `DeletionPolicy: Retain`, and its resource count.
    func retainedResources(_ stackID: String) throws(DeployError) -> (kept: [CloudFormation.StackResource], total: Int) {
        let resources = try aws("list the stack's resources") { () throws(AWSError) in try cloudFormation.listStackResources(stackID) }
        // A stack whose create never ran has no template to read: then nothing is kept.
        guard let text = try? cloudFormation.getTemplate(stackID), let template = try? JSON.parse(text),
              case .object(let declared)? = template["Resources"] else {
            return ([], resources.count)
        }
        let kept = resources.filter { declared[$0.logicalID]?["DeletionPolicy"]?.stringValue == "Retain" }
            .sorted { ($0.resourceType, $0.logicalID) < ($1.resourceType, $1.logicalID) }
        return (kept, resources.count)
    }

    // MARK: helpers

    /// Runs one AWS call; its error becomes a one-line `DeployError` saying what was being done.
    func aws<T>(_ what: String, _ body: () throws(AWSError) -> T) throws(DeployError) -> T {
        do {
            return try body()
        } catch {
            throw aws(what, error)
        }
    }

    func aws(_ what: String, _ error: AWSError) -> DeployError {
        if error.status == 403 || error.code == "AccessDenied" || error.code == "AccessDeniedException" {
            return DeployError("cannot \(what): access denied (\(error.message)); the credentials need that permission")
        }
        if ["ExpiredToken", "InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException"].contains(error.code) {
            return DeployError("cannot \(what): AWS refused the credentials (\(error.code)); check AWS_PROFILE or the keys in the environment")
        }
        return DeployError("cannot \(what): \(error)")
    }

    /// `512 B`, `14.2 KB`, `5.8 MB`: powers of 1000 (as AWS states its limits), rounded to a tenth.
    public static func size(_ n: Int) -> String {
        func tenths(_ unit: Int) -> String {
            let t = (n * 10 + unit / 2) / unit
            return "\(t / 10).\(t % 10)"
        }
        if n < 1000 { return "\(n) B" }
        if n < 999_950 { return tenths(1000) + " KB" }
        return tenths(1_000_000) + " MB"
    }
}
