// The deployment's clients against the AWS emulator (moto 5.2.6 in server mode on 127.0.0.1):
// CloudFormation's change sets, stacks, events, resources, template and deletion; STS; S3's
// artifact-bucket calls; Secrets Manager's writes. Results are read back through boto3
// (scripts/aws_fixture.py) where another client can see them.
import Foundation
import InfcCompiler
import InfcHTTPClient
import InfcTestSupport
import Testing
@testable import InfcAWS

@Suite struct CloudFormationClientTests {
    static let template = """
        {"AWSTemplateFormatVersion": "2010-09-09",
         "Parameters": {"Suffix": {"Type": "String"}},
         "Resources": {
           "Orders": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain",
                      "Properties": {"BillingMode": "PAY_PER_REQUEST",
                                     "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                                     "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}},
           "Jobs": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 60}}},
         "Outputs": {"OrdersName": {"Value": {"Ref": "Orders"}}}}
        """

    /// One emulator for both parts.
    @Test(.enabled(if: TestEnvironment.hasMoto, "python3 with moto[server] is not installed (scripts/install-test-deps.sh)"))
    func deploymentClientsOnTheEmulator() throws {
        let moto = try AWSServiceTests.startMoto()
        defer { moto.stop() }
        try changeSetsStacksEventsAndDeletion(moto)
        try artifactBucketAndSecretWrites(moto)
    }

    func changeSetsStacksEventsAndDeletion(_ moto: ChildServer) throws {
        let client = try AWSServiceTests.client(port: moto.port)
        let cf = CloudFormation(client)

        #expect(try STS(client).account() == "123456789012")
        #expect(try cf.describeStack("jobs") == nil)

        // Create through a change set: computed, then executed.
        let created = try cf.createChangeSet(stack: "jobs", name: "infc-1", type: .create, template: .body(Self.template),
                                             parameters: [("Suffix", "a b&c")], capabilities: ["CAPABILITY_IAM"], description: "test")
        #expect(created.id.contains(":changeSet/infc-1/") && created.stackID.contains(":stack/jobs/"))
        let changeSet = try cf.describeChangeSet(created.id)
        #expect(changeSet.status == "CREATE_COMPLETE")
        #expect(changeSet.changes.map(\.logicalID).sorted() == ["Jobs", "Orders"])
        #expect(changeSet.changes.allSatisfy { $0.action == "Add" })
        #expect(try cf.describeStack("jobs")?.status == "REVIEW_IN_PROGRESS")
        try cf.executeChangeSet(created.id)
        let stack = try #require(try cf.describeStack("jobs"))
        #expect(stack.status == "CREATE_COMPLETE" && stack.id == created.stackID)
        // Events, newest first: the stack's own (moto records no resource events).
        let events = try cf.describeStackEvents("jobs").events
        #expect(events.map(\.status) == ["CREATE_COMPLETE", "CREATE_IN_PROGRESS", "REVIEW_IN_PROGRESS"])
        #expect(events.allSatisfy { $0.logicalID == "jobs" && $0.resourceType == "AWS::CloudFormation::Stack" && $0.timestamp.hasPrefix("20") })
        let resources = try cf.listStackResources("jobs")
        #expect(resources.map(\.logicalID).sorted() == ["Jobs", "Orders"])
        let table = try #require(resources.first { $0.logicalID == "Orders" })
        #expect(table.resourceType == "AWS::DynamoDB::Table")
        #expect(try JSON.parse(cf.getTemplate("jobs"))["Resources"]?["Orders"]?["DeletionPolicy"] == .string("Retain"))
        // boto3 sees the same stack, its parameter as sent and the resources as made.
        let seen = try AWSServiceTests.fixture(moto.port, "stack", "jobs")
        #expect(seen["status"] == .string("CREATE_COMPLETE"))
        #expect(seen["parameters"]?["Suffix"] == .string("a b&c"))
        #expect(seen["resources"]?["Orders"]?["exists"] == .bool(true) && seen["resources"]?["Jobs"]?["exists"] == .bool(true))

        // The same template again: moto answers CreateChangeSet with "No updates are to be performed".
        #expect {
            try cf.createChangeSet(stack: "jobs", name: "infc-2", type: .update, template: .body(Self.template),
                                   parameters: [("Suffix", "a b&c")], capabilities: [])
        } throws: { error in
            (error as? AWSError)?.code == "ValidationError" && (error as? AWSError)?.message.contains("No updates are to be performed") == true
        }
        // A changed parameter is an update.
        let update = try cf.createChangeSet(stack: "jobs", name: "infc-3", type: .update, template: .body(Self.template),
                                            parameters: [("Suffix", "d")], capabilities: [])
        #expect(try cf.describeChangeSet(update.id).status == "CREATE_COMPLETE")
        try cf.executeChangeSet(update.id)
        #expect(try cf.describeStack("jobs")?.status == "UPDATE_COMPLETE")
        // A change set that is not run can be deleted.
        let spare = try cf.createChangeSet(stack: "jobs", name: "infc-4", type: .update, template: .body(Self.template),
                                           parameters: [("Suffix", "e")], capabilities: [])
        try cf.deleteChangeSet(spare.id)

        // Deletion: by name the stack is gone, by id it is DELETE_COMPLETE; the retained table stays.
        try cf.deleteStack(stack.id)
        #expect(try cf.describeStack("jobs") == nil)
        #expect(try cf.describeStack(stack.id)?.status == "DELETE_COMPLETE")
        let after = try AWSServiceTests.fixture(moto.port, "stack", "jobs")
        #expect(after["status"] == .string("NONE"))
        let ddb = DynamoDB(client)
        try ddb.putItem(table: table.physicalID, item: JSONObject([("id", .string("kept"))]))
    }

    func artifactBucketAndSecretWrites(_ moto: ChildServer) throws {
        let client = try AWSServiceTests.client(port: moto.port)
        let s3 = S3(client)
        #expect(try s3.bucketExists("infc-artifacts-123456789012-us-east-1") == false)
        try s3.createBucket("infc-artifacts-123456789012-us-east-1")
        #expect(try s3.bucketExists("infc-artifacts-123456789012-us-east-1"))
        #expect(try s3.objectExists(bucket: "infc-artifacts-123456789012-us-east-1", key: "shop/abc.zip") == false)
        try s3.putObject(bucket: "infc-artifacts-123456789012-us-east-1", key: "shop/abc.zip", body: [0x50, 0x4B, 5, 6])
        #expect(try s3.objectExists(bucket: "infc-artifacts-123456789012-us-east-1", key: "shop/abc.zip"))
        #expect(s3.awsObjectURL(bucket: "infc-artifacts-123456789012-us-east-1", key: "shop/a b.json")
                == "https://infc-artifacts-123456789012-us-east-1.s3.us-east-1.amazonaws.com/shop/a%20b.json")
        // Outside us-east-1 the bucket carries its location constraint.
        let west = try AWSServiceTests.client(port: moto.port, extra: ["AWS_REGION": "eu-west-1"])
        try S3(west).createBucket("infc-artifacts-123456789012-eu-west-1")
        #expect(try S3(west).bucketExists("infc-artifacts-123456789012-eu-west-1"))

        let secrets = SecretsManager(client)
        #expect(throws: AWSError.self) { try secrets.putSecretValue("shop/payments_key", value: "v1") }
        try secrets.createSecret("shop/payments_key", value: "v1", description: "test")
        #expect(try SecretsManager(client).secretString("shop/payments_key") == "v1")
        try secrets.putSecretValue("shop/payments_key", value: "sk_ünïcode_v2")
        let seen = try AWSServiceTests.fixture(moto.port, "stack", "shop")
        #expect(seen["secret"] == .string("sk_ünïcode_v2"))
        #expect(SecretsManager.requestToken() != SecretsManager.requestToken())
        #expect(SecretsManager.requestToken().count == 36)
    }
}
