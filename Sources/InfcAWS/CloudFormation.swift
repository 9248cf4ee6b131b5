// AWS: CloudFormation over the query protocol (version 2010-05-15, XML answers) — what a deployment
// needs: change sets (create, describe, execute, delete), stacks, their events, resources and
// template, and deletion; and STS GetCallerIdentity (the account an artifact bucket is named by).

public struct CloudFormation: Sendable {
    let client: AWSClient
    static let version = "2010-05-15"
    public init(_ client: AWSClient) { self.client = client }

    public struct Output: Sendable, Equatable {
        public var key: String
        public var value: String
        public var description: String?
    }

    public struct Stack: Sendable, Equatable {
        public var id: String
        public var name: String
        public var status: String
        public var statusReason: String?
        public var outputs: [Output]

        public init(id: String, name: String, status: String, statusReason: String?, outputs: [Output]) {
            self.id = id
            self.name = name
            self.status = status
            self.statusReason = statusReason
            self.outputs = outputs
        }
    }

    /// One stack event: a resource's (or the stack's own) change of status.
    public struct Event: Sendable, Equatable {
        public var id: String
        public var logicalID: String
        public var physicalID: String
        public var resourceType: String
        public var status: String
        public var reason: String?
        /// ISO 8601, as AWS writes it.
        public var timestamp: String
    }

    public struct Change: Sendable, Equatable {
        /// `Add`, `Modify`, `Remove`, `Import`, `Dynamic`.
        public var action: String
        public var logicalID: String
        public var resourceType: String
        /// `True`, `False`, `Conditional`, for a modification.
        public var replacement: String?
    }

    public struct ChangeSet: Sendable, Equatable {
        public var id: String
        /// `CREATE_PENDING`, `CREATE_IN_PROGRESS`, `CREATE_COMPLETE`, `DELETE_*`, `FAILED`.
        public var status: String
        public var statusReason: String?
        /// `UNAVAILABLE`, `AVAILABLE`, `EXECUTE_IN_PROGRESS`, `EXECUTE_COMPLETE`, `EXECUTE_FAILED`, `OBSOLETE`.
        public var executionStatus: String
        public var changes: [Change]
    }

    public struct StackResource: Sendable, Equatable {
        public var logicalID: String
        public var physicalID: String
        public var resourceType: String
        public var status: String
    }

    func call(_ action: String, _ parameters: [(String, String)]) throws(AWSError) -> XMLElement {
        try client.query(.cloudFormation, action: action, version: Self.version, parameters)
    }

    /// Whether `error` is CloudFormation's answer for a stack that does not exist.
    public static func isMissingStack(_ error: AWSError) -> Bool {
        error.code == "ValidationError" && error.message.contains("does not exist")
    }

    /// The stack named (or with the id) `name`; nil when there is none. A deleted stack is found
    /// by its id only.
    public func describeStack(_ name: String) throws(AWSError) -> Stack? {
        let xml: XMLElement
        do {
            xml = try call("DescribeStacks", [("StackName", name)])
        } catch where Self.isMissingStack(error) {
            return nil
        }
        guard let member = xml.find("Stacks")?.first("member") else { return nil }
        return Stack(
            id: member.first("StackId")?.text ?? "",
            name: member.first("StackName")?.text ?? name,
            status: member.first("StackStatus")?.text ?? "",
            statusReason: member.first("StackStatusReason")?.text,
            outputs: (member.first("Outputs")?.all("member") ?? []).map {
                Output(key: $0.first("OutputKey")?.text ?? "", value: $0.first("OutputValue")?.text ?? "",
                       description: $0.first("Description")?.text)
            })
    }

    public enum ChangeSetType: String, Sendable { case create = "CREATE", update = "UPDATE" }

    /// Where the template comes from: inline (at most 51,200 bytes) or an S3 URL.
    public enum TemplateSource: Sendable {
        case body(String)
        case url(String)
    }

    /// Creates a change set; its id and the stack's.
    public func createChangeSet(stack: String, name: String, type: ChangeSetType, template: TemplateSource,
                                parameters: [(key: String, value: String)], capabilities: [String],
                                description: String? = nil) throws(AWSError) -> (id: String, stackID: String) {
        var p: [(String, String)] = [("StackName", stack), ("ChangeSetName", name), ("ChangeSetType", type.rawValue)]
        switch template {
        case .body(let text): p.append(("TemplateBody", text))
        case .url(let url): p.append(("TemplateURL", url))
        }
        for (i, parameter) in parameters.enumerated() {
            p.append(("Parameters.member.\(i + 1).ParameterKey", parameter.key))
            p.append(("Parameters.member.\(i + 1).ParameterValue", parameter.value))
        }
        for (i, c) in capabilities.enumerated() { p.append(("Capabilities.member.\(i + 1)", c)) }
        if let description { p.append(("Description", description)) }
        let xml = try call("CreateChangeSet", p)
        guard let id = xml.find("Id")?.text, !id.isEmpty else {
            throw AWSError(service: "cloudformation", operation: "CreateChangeSet", code: "MalformedResponse", message: "the answer has no Id", status: 200)
        }
        return (id, xml.find("StackId")?.text ?? "")
    }

    /// The change set with id (ARN) `id`, every page of its changes.
    public func describeChangeSet(_ id: String) throws(AWSError) -> ChangeSet {
        var changes: [Change] = []
        var token: String?
        var first = XMLElement(name: "", children: [], text: "")
        var isFirst = true
        repeat {
            var p = [("ChangeSetName", id)]
            if let token { p.append(("NextToken", token)) }
            let xml = try call("DescribeChangeSet", p)
            guard let result = xml.find("DescribeChangeSetResult") else {
                throw AWSError(service: "cloudformation", operation: "DescribeChangeSet", code: "MalformedResponse", message: "the answer has no DescribeChangeSetResult", status: 200)
            }
            if isFirst { first = result; isFirst = false }
            for member in result.first("Changes")?.all("member") ?? [] {
                guard let rc = member.first("ResourceChange") else { continue }
                changes.append(Change(action: rc.first("Action")?.text ?? "", logicalID: rc.first("LogicalResourceId")?.text ?? "",
                                      resourceType: rc.first("ResourceType")?.text ?? "", replacement: rc.first("Replacement")?.text))
            }
            token = result.first("NextToken")?.text.nonEmpty
        } while token != nil
        let r = first
        return ChangeSet(id: r.first("ChangeSetId")?.text ?? id, status: r.first("Status")?.text ?? "",
                         statusReason: r.first("StatusReason")?.text.nonEmpty, executionStatus: r.first("ExecutionStatus")?.text ?? "",
                         changes: changes)
    }

    public func executeChangeSet(_ id: String) throws(AWSError) {
        _ = try call("ExecuteChangeSet", [("ChangeSetName", id)])
    }

    public func deleteChangeSet(_ id: String) throws(AWSError) {
        _ = try call("DeleteChangeSet", [("ChangeSetName", id)])
    }

    /// One page of the stack's events, newest first, and the token of the next (older) page.
    public func describeStackEvents(_ stack: String, nextToken: String? = nil) throws(AWSError) -> (events: [Event], next: String?) {
        var p = [("StackName", stack)]
        if let nextToken { p.append(("NextToken", nextToken)) }
        let xml = try call("DescribeStackEvents", p)
        let events = (xml.find("StackEvents")?.all("member") ?? []).map {
            Event(id: $0.first("EventId")?.text ?? "", logicalID: $0.first("LogicalResourceId")?.text ?? "",
                  physicalID: $0.first("PhysicalResourceId")?.text ?? "", resourceType: $0.first("ResourceType")?.text ?? "",
                  status: $0.first("ResourceStatus")?.text ?? "", reason: $0.first("ResourceStatusReason")?.text.nonEmpty,
                  timestamp: $0.first("Timestamp")?.text ?? "")
        }
        return (events, xml.find("NextToken")?.text.nonEmpty)
    }

    /// Every resource of the stack, page after page.
    public func listStackResources(_ stack: String) throws(AWSError) -> [StackResource] {
        var all: [StackResource] = []
        var token: String?
        repeat {
            var p = [("StackName", stack)]
            if let token { p.append(("NextToken", token)) }
            let xml = try call("ListStackResources", p)
            all += (xml.find("StackResourceSummaries")?.all("member") ?? []).map {
                StackResource(logicalID: $0.first("LogicalResourceId")?.text ?? "", physicalID: $0.first("PhysicalResourceId")?.text ?? "",
                              resourceType: $0.first("ResourceType")?.text ?? "", status: $0.first("ResourceStatus")?.text ?? "")
            }
            token = xml.find("NextToken")?.text.nonEmpty
        } while token != nil
        return all
    }

    /// The stack's current template, as text.
    public func getTemplate(_ stack: String) throws(AWSError) -> String {
        try call("GetTemplate", [("StackName", stack)]).find("TemplateBody")?.text ?? ""
    }

    public func deleteStack(_ stack: String) throws(AWSError) {
        _ = try call("DeleteStack", [("StackName", stack)])
    }
}

public struct STS: Sendable {
    let client: AWSClient
    public init(_ client: AWSClient) { self.client = client }

    /// The account of the caller's credentials.
    public func account() throws(AWSError) -> String {
        let xml = try client.query(.sts, action: "GetCallerIdentity", version: "2011-06-15", [])
        guard let account = xml.find("Account")?.text, !account.isEmpty else {
            throw AWSError(service: "sts", operation: "GetCallerIdentity", code: "MalformedResponse", message: "the answer has no Account", status: 200)
        }
        return account
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
