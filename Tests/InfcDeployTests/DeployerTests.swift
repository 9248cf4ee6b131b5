// The deployment's logic against CloudFormation as AWS behaves and the emulator does not: resource
// events that arrive over several polls, a create that fails and rolls back, an update that rolls
// back, a change set FAILED for having no changes, stacks in states that cannot be updated, a 403
// on the artifact bucket, outputs, secrets that are sent but never printed. The AWS answers are the
// services' own XML and JSON, through the real clients and signer, from a scripted transport.
import Foundation
import InfcAWS
import InfcCompiler
import InfcHTTPClient
import Testing
@testable import InfcDeploy

/// AWS as a script: one stack, its events, an artifact bucket, Secrets Manager.
final class ScriptedAWS: AWSTransport, @unchecked Sendable {
    struct Step { var status: String; var events: [(String, String, String, String?)] }

    private let lock = NSLock()
    var stackStatus: String?
    var stackReason: String?
    var outputs: [(String, String)] = []
    /// Events, oldest first: (logical id, type, status, reason).
    var events: [(id: String, logical: String, type: String, status: String, reason: String?)] = []
    var bucketStatus = 404
    var objects = Set<String>()
    var changeSetStatus = "CREATE_COMPLETE"
    var changeSetReason: String?
    var changes: [(String, String)] = [("Add", "OrdersTable")]
    /// What each DescribeStacks after ExecuteChangeSet (or DeleteStack) reveals, in turn.
    var script: [Step] = []
    var secrets: [String: String] = [:]
    var requests: [(action: String, body: String)] = []

    func actions() -> [String] { lock.lock(); defer { lock.unlock() }; return requests.map(\.action) }

    func add(_ step: Step) {
        stackStatus = step.status
        for (logical, type, status, reason) in step.events {
            events.append(("e\(events.count)", logical, type, status, reason))
        }
    }

    func send(_ request: HTTPRequest) throws(HTTPClientError) -> HTTPResponse {
        lock.lock(); defer { lock.unlock() }
        let body = String(decoding: request.body, as: UTF8.self)
        if let target = request.headers["X-Amz-Target"] {
            requests.append((target, body))
            return secretsManager(target, body)
        }
        if request.method != "POST" {
            requests.append(("S3 \(request.method) \(request.url.path)", body))
            return s3(request)
        }
        var form: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            form[kv[0]] = PercentEncoding.decode(kv.count > 1 ? kv[1] : "") ?? ""
        }
        let action = form["Action"] ?? ""
        requests.append((action, body))
        return cloudFormation(action, form)
    }

    func xml(_ action: String, _ inner: String) -> HTTPResponse {
        HTTPResponse(status: 200, body: Array("<\(action)Response xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><\(action)Result>\(inner)</\(action)Result></\(action)Response>".utf8))
    }

    func error(_ status: Int, _ code: String, _ message: String) -> HTTPResponse {
        HTTPResponse(status: status, body: Array("<ErrorResponse><Error><Type>Sender</Type><Code>\(code)</Code><Message>\(message)</Message></Error></ErrorResponse>".utf8))
    }

    static let stackID = "arn:aws:cloudformation:us-east-1:123456789012:stack/shop/abc"

    func cloudFormation(_ action: String, _ form: [String: String]) -> HTTPResponse {
        switch action {
        case "GetCallerIdentity":
            return xml(action, "<Account>123456789012</Account>")
        case "DescribeStacks":
            if lostAfterExecute && phase == "EXECUTED" { return error(503, "ServiceUnavailable", "Service Unavailable") }
            if stackStatus != nil, !script.isEmpty, ["EXECUTED", "DELETING"].contains(phase) { add(script.removeFirst()) }
            guard let status = stackStatus, !(status == "DELETE_COMPLETE" && form["StackName"] == "shop") else {
                return error(400, "ValidationError", "Stack with id \(form["StackName"] ?? "") does not exist")
            }
            let reason = stackReason.map { "<StackStatusReason>\($0)</StackStatusReason>" } ?? ""
            let outs = outputs.map { "<member><OutputKey>\($0.0)</OutputKey><OutputValue>\($0.1)</OutputValue></member>" }.joined()
            return xml(action, "<Stacks><member><StackId>\(Self.stackID)</StackId><StackName>shop</StackName><StackStatus>\(status)</StackStatus>\(reason)<Outputs>\(outs)</Outputs></member></Stacks>")
        case "CreateChangeSet":
            if stackStatus == nil { stackStatus = "REVIEW_IN_PROGRESS"; events.append(("e\(events.count)", "shop", "AWS::CloudFormation::Stack", "REVIEW_IN_PROGRESS", "User Initiated")) }
            return xml(action, "<Id>arn:aws:cloudformation:us-east-1:123456789012:changeSet/\(form["ChangeSetName"] ?? "")/1</Id><StackId>\(Self.stackID)</StackId>")
        case "DescribeChangeSet":
            let reason = changeSetReason.map { "<StatusReason>\($0)</StatusReason>" } ?? ""
            let members = changes.map { "<member><Type>Resource</Type><ResourceChange><Action>\($0.0)</Action><LogicalResourceId>\($0.1)</LogicalResourceId><ResourceType>AWS::DynamoDB::Table</ResourceType></ResourceChange></member>" }.joined()
            return xml(action, "<ChangeSetId>\(form["ChangeSetName"] ?? "")</ChangeSetId><Status>\(changeSetStatus)</Status>\(reason)<ExecutionStatus>AVAILABLE</ExecutionStatus><Changes>\(members)</Changes>")
        case "ExecuteChangeSet":
            phase = "EXECUTED"
            return xml(action, "")
        case "DeleteChangeSet":
            return xml(action, "")
        case "DescribeStackEvents":
            // Newest first, two per page, as AWS pages them (by up to 100).
            let newest = Array(events.reversed())
            let start = Int(form["NextToken"] ?? "0") ?? 0
            let page = newest[min(start, newest.count)..<min(start + 2, newest.count)]
            let members = page.map { e in
                "<member><EventId>\(e.id)</EventId><StackName>shop</StackName><LogicalResourceId>\(e.logical)</LogicalResourceId><PhysicalResourceId>p-\(e.logical)</PhysicalResourceId><ResourceType>\(e.type)</ResourceType><Timestamp>2026-12-06T10:00:\(e.id.dropFirst().count == 1 ? "0" : "")\(e.id.dropFirst()).000Z</Timestamp><ResourceStatus>\(e.status)</ResourceStatus>\(e.reason.map { "<ResourceStatusReason>\($0)</ResourceStatusReason>" } ?? "")</member>"
            }.joined()
            let next = start + 2 < newest.count ? "<NextToken>\(start + 2)</NextToken>" : ""
            return xml(action, "<StackEvents>\(members)</StackEvents>\(next)")
        case "DeleteStack":
            phase = "DELETING"
            return xml(action, "")
        case "GetTemplate":
            let template = #"{"Resources": {"OrdersTable": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain"}, "ChargeFunction": {"Type": "AWS::Lambda::Function"}}}"#
            return xml(action, "<TemplateBody>\(template.replacingOccurrences(of: "\"", with: "&quot;"))</TemplateBody>")
        case "ListStackResources":
            return xml(action, "<StackResourceSummaries><member><LogicalResourceId>OrdersTable</LogicalResourceId><PhysicalResourceId>shop-OrdersTable-1</PhysicalResourceId><ResourceType>AWS::DynamoDB::Table</ResourceType><ResourceStatus>CREATE_COMPLETE</ResourceStatus></member><member><LogicalResourceId>ChargeFunction</LogicalResourceId><PhysicalResourceId>shop-Charge-1</PhysicalResourceId><ResourceType>AWS::Lambda::Function</ResourceType><ResourceStatus>CREATE_COMPLETE</ResourceStatus></member></StackResourceSummaries>")
        default:
            return error(400, "InvalidAction", action)
        }
    }
    var phase = ""
    /// Every DescribeStacks after ExecuteChangeSet fails, as a lost network would.
    var lostAfterExecute = false

    func s3(_ request: HTTPRequest) -> HTTPResponse {
        let path = request.url.path
        let isBucket = path.dropFirst().split(separator: "/").count == 1
        switch (request.method, isBucket) {
        case ("HEAD", true): return HTTPResponse(status: bucketStatus)
        case ("PUT", true): bucketStatus = 200; return HTTPResponse(status: 200)
        case ("HEAD", false): return HTTPResponse(status: objects.contains(path) ? 200 : 404)
        case ("PUT", false): objects.insert(path); return HTTPResponse(status: 200)
        default: return HTTPResponse(status: 400)
        }
    }

    func secretsManager(_ target: String, _ body: String) -> HTTPResponse {
        guard let json = try? JSON.parse(body) else { return HTTPResponse(status: 400) }
        if target.hasSuffix("PutSecretValue") {
            let id = json["SecretId"]?.stringValue ?? ""
            guard secrets[id] != nil else {
                return HTTPResponse(status: 400, body: Array(#"{"__type": "ResourceNotFoundException", "message": "Secrets Manager can't find the specified secret."}"#.utf8))
            }
            secrets[id] = json["SecretString"]?.stringValue
        } else {
            secrets[json["Name"]?.stringValue ?? ""] = json["SecretString"]?.stringValue
        }
        return HTTPResponse(status: 200, body: Array("{}".utf8))
    }
}

final class Lines: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    private var sleeps = 0
    func add(_ s: String) { lock.lock(); stored.append(s); lock.unlock() }
    func slept() { lock.lock(); sleeps += 1; lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return stored }
    var sleepCount: Int { lock.lock(); defer { lock.unlock() }; return sleeps }
}

@Suite struct DeployerTests {
    static let package = LambdaPackage.Built(zip: [1, 2, 3], sha256: String(repeating: "ab", count: 32), paths: ["bootstrap"])

    static func deployer(_ aws: ScriptedAWS, _ lines: Lines) throws -> Deployer {
        let environment = try AWSEnvironment.resolve(
            environment: ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "us-east-1",
                          "AWS_ENDPOINT_URL": "http://aws.test", "AWS_MAX_ATTEMPTS": "1"],
            readFile: { _ in nil })
        return Deployer(client: AWSClient(environment: environment, transport: aws), say: { lines.add($0) },
                        sleep: { _ in lines.slept() }, now: { 1_765_000_000 })
    }

    static func request(secrets: [String: String]? = nil) -> DeployRequest {
        DeployRequest(stack: "shop", app: "shop", template: Array("{}".utf8), resourceCount: 40, package: package,
                      secrets: ["payments_key"], secretValues: secrets)
    }

    @Test func aFailedCreateNamesTheResourceAndAWSsReason() throws {
        let aws = ScriptedAWS()
        let reason = "Resource handler returned message: Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [10]."
        aws.script = [
            .init(status: "CREATE_IN_PROGRESS", events: [("shop", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS", "User Initiated"),
                                                          ("OrdersTable", "AWS::DynamoDB::Table", "CREATE_IN_PROGRESS", nil)]),
            .init(status: "ROLLBACK_IN_PROGRESS", events: [("OrdersTable", "AWS::DynamoDB::Table", "CREATE_COMPLETE", nil),
                                                            ("ChargeRole", "AWS::IAM::Role", "CREATE_FAILED", "Resource creation cancelled"),
                                                            ("ChargeFunction", "AWS::Lambda::Function", "CREATE_FAILED", reason),
                                                            ("shop", "AWS::CloudFormation::Stack", "ROLLBACK_IN_PROGRESS", "The following resource(s) failed to create: [ChargeFunction]")]),
            .init(status: "ROLLBACK_COMPLETE", events: [("OrdersTable", "AWS::DynamoDB::Table", "DELETE_SKIPPED", nil),
                                                         ("shop", "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE", nil)]),
        ]
        let lines = Lines()
        #expect(throws: DeployError("deploying stack shop failed: ChargeFunction (AWS::Lambda::Function) CREATE_FAILED: \(reason); the stack is ROLLBACK_COMPLETE: fix the cause, remove it with 'infc destroy --stack shop', and deploy again", stackFailed: true)) {
            try Self.deployer(aws, lines).deploy(Self.request())
        }
        let printed = lines.all
        // Every event once, oldest first, as it arrived; a progress line after each batch.
        let eventLines = printed.filter { $0.hasPrefix("  10:00:") }
        #expect(eventLines.count == 9, "\(printed)")
        #expect(eventLines.first?.contains("REVIEW_IN_PROGRESS") == true)
        #expect(eventLines[3].hasPrefix("  10:00:03  CREATE_COMPLETE") && eventLines[3].hasSuffix("OrdersTable"))
        #expect(eventLines[5].contains("ChargeFunction  (\(reason))"))
        #expect(printed.contains("  … 1 of 40 resources done"))
        #expect(printed.contains("created the artifact bucket s3://infc-artifacts-123456789012-us-east-1"))
        #expect(aws.actions().contains("S3 PUT /infc-artifacts-123456789012-us-east-1/shop/\(Self.package.sha256).zip"))
        // It waited between polls, never before the first.
        #expect(lines.sleepCount == 2)
    }

    @Test func aSuccessfulDeployPrintsTheOutputsAndNeverASecretsValue() throws {
        let aws = ScriptedAWS()
        aws.bucketStatus = 200
        aws.outputs = [("ApiUrl", "https://abc123.execute-api.us-east-1.amazonaws.com"), ("OrdersTableName", "shop-OrdersTable-1")]
        aws.script = [.init(status: "CREATE_COMPLETE", events: [("OrdersTable", "AWS::DynamoDB::Table", "CREATE_COMPLETE", nil),
                                                                 ("shop", "AWS::CloudFormation::Stack", "CREATE_COMPLETE", nil)])]
        let lines = Lines()
        let outputs = try Self.deployer(aws, lines).deploy(Self.request(secrets: ["payments_key": "sk_live_TOPSECRET"]))
        #expect(outputs.map(\.key) == ["ApiUrl", "OrdersTableName"])
        let printed = lines.all
        #expect(printed.suffix(3) == ["outputs:", "  ApiUrl           https://abc123.execute-api.us-east-1.amazonaws.com", "  OrdersTableName  shop-OrdersTable-1"])
        #expect(printed.contains("secret payments_key: created with its value (shop/payments_key)"))
        #expect(!printed.joined().contains("TOPSECRET"))
        #expect(aws.secrets == ["shop/payments_key": "sk_live_TOPSECRET"])
        #expect(aws.actions().filter { $0.hasPrefix("secretsmanager.") } == ["secretsmanager.PutSecretValue", "secretsmanager.CreateSecret"])
        // The change set carried the package's place and the IAM capabilities.
        let create = try #require(aws.requests.first { $0.action == "CreateChangeSet" }?.body)
        #expect(create.contains("ChangeSetType=CREATE") && create.contains("Parameters.member.2.ParameterKey=CodeKey"))
        #expect(create.contains("Parameters.member.2.ParameterValue=shop%2F\(Self.package.sha256).zip") && create.contains("Capabilities.member.1=CAPABILITY_IAM"))
    }

    @Test func aChangeSetWithNoChangesIsUpToDate() throws {
        let aws = ScriptedAWS()
        aws.stackStatus = "UPDATE_COMPLETE"
        aws.bucketStatus = 200
        aws.objects = ["/infc-artifacts-123456789012-us-east-1/shop/\(Self.package.sha256).zip"]
        aws.outputs = [("ApiUrl", "https://abc123.execute-api.us-east-1.amazonaws.com")]
        aws.changeSetStatus = "FAILED"
        aws.changeSetReason = "The submitted information didn't contain changes. Submit different information to create a change set."
        let lines = Lines()
        try Self.deployer(aws, lines).deploy(Self.request())
        #expect(lines.all.contains("stack shop is up to date: no changes to deploy"))
        #expect(lines.all.last == "  ApiUrl  https://abc123.execute-api.us-east-1.amazonaws.com")
        #expect(lines.all.contains { $0.contains("is already in s3://") })
        let actions = aws.actions()
        #expect(actions.contains("DeleteChangeSet") && !actions.contains("ExecuteChangeSet"))
        #expect(!actions.contains { $0.hasPrefix("S3 PUT") })
    }

    @Test func aRolledBackUpdateSaysSoAndPrintsOnlyItsOwnEvents() throws {
        let aws = ScriptedAWS()
        aws.stackStatus = "CREATE_COMPLETE"
        aws.bucketStatus = 200
        // A history of three pages (two events each): only the first is read before the update.
        aws.events = (0..<5).map { ("old\($0)", "shop", "AWS::CloudFormation::Stack", "CREATE_COMPLETE", nil) }
        aws.changes = [("Modify", "OrdersTable"), ("Add", "AuditTable")]
        aws.script = [
            .init(status: "UPDATE_ROLLBACK_IN_PROGRESS", events: [("AuditTable", "AWS::DynamoDB::Table", "CREATE_FAILED", "Table already exists: shop-audit")]),
            .init(status: "UPDATE_ROLLBACK_COMPLETE", events: [("shop", "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE", nil)]),
        ]
        let lines = Lines()
        #expect(throws: DeployError("deploying stack shop failed: AuditTable (AWS::DynamoDB::Table) CREATE_FAILED: Table already exists: shop-audit; the stack rolled back to its previous version: fix the cause and deploy again", stackFailed: true)) {
            try Self.deployer(aws, lines).deploy(Self.request())
        }
        #expect(lines.all.contains("change set: 1 to add, 1 to modify, 0 to remove"))
        #expect(lines.all.filter { $0.hasPrefix("  10:00:") }.count == 2, "\(lines.all)")
        // One page read before executing; then, per poll, pages until a seen event.
        #expect(aws.actions().filter { $0 == "DescribeStackEvents" }.count == 3)
    }

    @Test func stacksThatCannotBeUpdatedAreRefusedBeforeAnyUpload() throws {
        for (status, expected) in [("ROLLBACK_COMPLETE", "remove it with 'infc destroy --stack shop', then deploy again"),
                                   ("UPDATE_IN_PROGRESS", "is busy (UPDATE_IN_PROGRESS); wait until it finishes"),
                                   ("UPDATE_ROLLBACK_FAILED", "continue-update-rollback --stack-name shop")] {
            let aws = ScriptedAWS()
            aws.stackStatus = status
            do {
                try Self.deployer(aws, Lines()).deploy(Self.request())
                Issue.record("\(status) deployed")
            } catch let error as DeployError {
                #expect(error.description.contains(expected), "\(error)")
                #expect(!error.stackFailed)
            }
            #expect(aws.actions() == ["DescribeStacks"])
        }
    }

    @Test func anArtifactBucketOfSomeoneElseIsOneLine() throws {
        let aws = ScriptedAWS()
        aws.bucketStatus = 403
        #expect(throws: DeployError("the artifact bucket mine exists but these credentials may not use it (HTTP 403: another account's, or no s3:ListBucket permission); pass --bucket NAME of a bucket you own")) {
            var r = Self.request()
            r.bucket = "mine"
            try Self.deployer(aws, Lines()).deploy(r)
        }
    }

    @Test func destroyListsWhatItKeeps() throws {
        let aws = ScriptedAWS()
        aws.stackStatus = "UPDATE_COMPLETE"
        aws.script = [.init(status: "DELETE_IN_PROGRESS", events: [("shop", "AWS::CloudFormation::Stack", "DELETE_IN_PROGRESS", "User Initiated"),
                                                                    ("OrdersTable", "AWS::DynamoDB::Table", "DELETE_SKIPPED", nil)]),
                      .init(status: "DELETE_COMPLETE", events: [("ChargeFunction", "AWS::Lambda::Function", "DELETE_COMPLETE", nil),
                                                                 ("shop", "AWS::CloudFormation::Stack", "DELETE_COMPLETE", nil)])]
        let lines = Lines()
        try Self.deployer(aws, lines).destroy(stack: "shop")
        #expect(lines.all.suffix(3) == ["stack shop deleted",
                                        "kept with their data (DeletionPolicy Retain); delete them by hand when the data is no longer needed:",
                                        "  AWS::DynamoDB::Table  OrdersTable  shop-OrdersTable-1"])
        #expect(lines.all.contains("  … 2 of 2 resources done"))

        let gone = ScriptedAWS()
        let quiet = Lines()
        try Self.deployer(gone, quiet).destroy(stack: "shop")
        #expect(quiet.all == ["stack shop does not exist in us-east-1: nothing to delete"])
    }

    @Test func losingAWSWhileFollowingSaysTheOperationGoesOn() throws {
        let aws = ScriptedAWS()
        aws.bucketStatus = 200
        aws.lostAfterExecute = true
        #expect(throws: DeployError("cannot read stack shop: cloudformation DescribeStacks: ServiceUnavailable (HTTP 503): Service Unavailable; the stack's operation goes on in AWS: follow it with 'aws cloudformation describe-stack-events --stack-name shop'")) {
            try Self.deployer(aws, Lines()).deploy(Self.request())
        }
    }

    @Test func sizesAreRoundedToATenth() {
        #expect(Deployer.size(999) == "999 B")
        #expect(Deployer.size(51_200) == "51.2 KB")
        #expect(Deployer.size(5_750_000) == "5.8 MB")
        #expect(Deployer.size(999_949) == "999.9 KB")
        #expect(Deployer.size(999_950) == "1.0 MB")
    }

    @Test func aFailedDeletionNamesTheResource() throws {
        let aws = ScriptedAWS()
        aws.stackStatus = "CREATE_COMPLETE"
        aws.script = [.init(status: "DELETE_FAILED", events: [("ChargeFunction", "AWS::Lambda::Function", "DELETE_FAILED", "Access denied for lambda:DeleteFunction")])]
        #expect(throws: DeployError("deleting stack shop failed: ChargeFunction (AWS::Lambda::Function): Access denied for lambda:DeleteFunction; fix the cause (or delete that resource by hand), then destroy again", stackFailed: true)) {
            try Self.deployer(aws, Lines()).destroy(stack: "shop")
        }
    }
}
