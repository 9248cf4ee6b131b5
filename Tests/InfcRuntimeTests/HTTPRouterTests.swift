// Runtime HTTP tests: the Router — parameters, 404, 405 with the allowed list, static over
// parameter segments, trailing slashes, HEAD falling back to GET, percent-decoded segments.

import Testing
@testable import InfcRuntime

@Suite struct HTTPRouterTests {
    typealias Match = Router<String>.Match

    static let router: Router<String> = {
        var r = Router<String>()
        r.add("GET", "/orders", "list")
        r.add("POST", "/orders", "create")
        r.add("GET", "/orders/:id", "get")
        r.add("DELETE", "/orders/:id", "delete")
        r.add("GET", "/orders/latest", "latest")
        r.add("POST", "/orders/new", "new")
        r.add("GET", "/users/:user/orders/:order", "nested")
        r.add("GET", "/", "root")
        return r
    }()

    @Test func parametersAreCaptured() {
        #expect(Self.router.match("GET", "/orders/42") == .found("get", params: ["id": "42"]))
        #expect(Self.router.match("GET", "/users/ann/orders/7") == .found("nested", params: ["user": "ann", "order": "7"]))
        #expect(Self.router.match("GET", "/") == .found("root", params: [:]))
    }

    @Test func unknownPathIs404() {
        #expect(Self.router.match("GET", "/nope") == .notFound)
        #expect(Self.router.match("GET", "/orders/1/extra") == .notFound)
    }

    @Test func wrongMethodIs405WithAllowedList() {
        #expect(Self.router.match("PUT", "/orders") == .methodNotAllowed(allowed: ["GET", "HEAD", "POST"]))
        #expect(Self.router.match("POST", "/orders/9") == .methodNotAllowed(allowed: ["DELETE", "GET", "HEAD"]))
    }

    @Test func staticSegmentsBeatParameters() {
        #expect(Self.router.match("GET", "/orders/latest") == .found("latest", params: [:]))
        #expect(Self.router.match("POST", "/orders/new") == .found("new", params: [:]))
        // The static branch has no GET, so the parameter route answers.
        #expect(Self.router.match("GET", "/orders/new") == .found("get", params: ["id": "new"]))
        // Allowed methods come from every route the path reaches.
        #expect(Self.router.match("PUT", "/orders/new") == .methodNotAllowed(allowed: ["DELETE", "GET", "HEAD", "POST"]))
    }

    @Test func trailingSlashIsTolerated() {
        #expect(Self.router.match("GET", "/orders/") == .found("list", params: [:]))
        #expect(Self.router.match("GET", "/orders/5/") == .found("get", params: ["id": "5"]))
        var r = Router<Int>()
        r.add("GET", "/items/", 1)
        #expect(r.match("GET", "/items") == .found(1, params: [:]))
    }

    @Test func headFallsBackToGet() {
        #expect(Self.router.match("HEAD", "/orders/3") == .found("get", params: ["id": "3"]))
        var r = Router<String>()
        r.add("GET", "/x", "get")
        r.add("HEAD", "/x", "head")
        #expect(r.match("HEAD", "/x") == .found("head", params: [:]))
    }

    @Test func segmentsArePercentDecoded() {
        #expect(Self.router.match("GET", "/orders/a%20b") == .found("get", params: ["id": "a b"]))
        #expect(Self.router.match("GET", "/orders/a%2Fb") == .found("get", params: ["id": "a/b"]))
        #expect(Self.router.match("GET", "/%6Frders/latest") == .found("latest", params: [:]))
        let request = HTTPRequest(method: "GET", rawTarget: "/orders/x%3Fy?z=1")
        #expect(Self.router.match(request) == .found("get", params: ["id": "x?y"]))
    }

    @Test func laterRegistrationReplaces() {
        var r = Router<Int>()
        r.add("get", "/a/:x", 1)
        r.add("GET", "/a/:y", 2)
        #expect(r.match("GET", "/a/v") == .found(2, params: ["y": "v"]))
    }
}
