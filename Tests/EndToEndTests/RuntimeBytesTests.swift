import InfcTestSupport
// End-to-end runtime tests: bytes kept byte for byte — a JPEG holding every byte value goes from
// a stub service into a bucket (directly, through a queue message and inside a table document)
// and out of a route unchanged with its content type; an uploaded body and a forwarded one stay
// identical; text operations on bytes are a clear runtime error.
import Foundation
import InfcCompiler
import Testing

extension RuntimeE2E {
    @Suite struct Bytes {
        static let source = """
            app photos
            bucket photos
            table albums
            service images "http://127.0.0.1:9"

            route POST "/fetch/:name" (req) {
              let img = images.get("/img/{req.params.name}")
              photos.put(req.params.name, img)
              return { stored: len(img) }
            }

            route POST "/fetch-later/:name" (req) {
              async keep(req.params.name, images.get("/img/{req.params.name}"))
              return { status: 202 }
            }

            fn keep(name, img) { photos.put("later/{name}", img) }

            route POST "/album/:name" (req) {
              albums.put(req.params.name, { title: "cover", cover: images.get("/img/{req.params.name}") })
              return { ok: true }
            }

            route GET "/album/:name" (req) { return { status: 200, body: albums.get(req.params.name).cover } }

            route GET "/photo/:name" (req) { return photos.get(req.params.name) }
            route GET "/later/:name" (req) { return photos.get("later/{req.params.name}") }

            route PUT "/photo/:name" (req) {
              photos.put(req.params.name, req.body)
              return { size: len(req.body) }
            }

            route POST "/forward/:name" (req) {
              return images.post("/echo", photos.get(req.params.name))
            }

            route GET "/caption/:name" (req) { return "photo: {photos.get(req.params.name)}" }
            route GET "/str/:name" (req) { return str(photos.get(req.params.name)) }
            route GET "/nested/:name" (req) { return { photo: photos.get(req.params.name) } }
            """

        /// A JPEG's markers around every byte value, twice (the second time descending).
        static let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + (0...255).map { UInt8($0) } + (0...255).reversed().map { UInt8($0) } + [0xFF, 0xD9]

        static func start() throws -> (TestApp, StubServer, InfcProcess) {
            let stub = try StubServer(raw: { r in
                if r.path.hasPrefix("/img/") { return (200, "image/jpeg", jpeg) }
                if r.path == "/echo" { return (200, r.headers["content-type"] ?? "none", r.body) }
                return (404, "application/json", Array(#"{"error":"no such image"}"#.utf8))
            })
            let app = try TestApp(source, name: "bytes")
            try app.build()
            let runtime = try InfcProcess.run(app, environment: ["INFC_SERVICE_IMAGES_URL": stub.url])
            return (app, stub, runtime)
        }

        @Test(.timeLimit(.minutes(1))) func serviceToBucketToRouteKeepsEveryByte() throws {
            let (_, stub, runtime) = try Self.start()
            defer { runtime.kill(); stub.stop() }

            let fetched = try runtime.post("/fetch/a.jpg", json: "{}")
            #expect(fetched.status == 200, "\(fetched.text)")
            #expect(fetched.json?["stored"] == .int(Self.jpeg.count))
            let served = try runtime.get("/photo/a.jpg")
            #expect(served.status == 200)
            #expect(served.header("Content-Type") == "image/jpeg")
            #expect(served.body == Self.jpeg)

            // Through a queue message (bytes in the stored message body).
            #expect(try runtime.post("/fetch-later/b.jpg", json: "{}").status == 202)
            // (A missing object is a 200 with a null body: wait for the bytes themselves.)
            #expect(try eventually(timeout: 10) { try runtime.get("/later/b.jpg").body == Self.jpeg })
            let later = try runtime.get("/later/b.jpg")
            #expect(later.body == Self.jpeg)
            #expect(later.header("Content-Type") == "image/jpeg")

            // Inside a table document, served as a response body.
            #expect(try runtime.post("/album/c.jpg", json: "{}").status == 200)
            let cover = try runtime.get("/album/c.jpg")
            #expect(cover.body == Self.jpeg)
            #expect(cover.header("Content-Type") == "image/jpeg")
        }

        @Test(.timeLimit(.minutes(1))) func uploadedAndForwardedBytesStayIdentical() throws {
            let (_, stub, runtime) = try Self.start()
            defer { runtime.kill(); stub.stop() }

            let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0...255).map { UInt8(255 - $0) }
            let put = try HTTP.request("PUT", port: runtime.port, path: "/photo/p.png",
                                       headers: [("Content-Type", "image/png")], body: png)
            #expect(put.status == 200, "\(put.text)")
            #expect(put.json?["size"] == .int(png.count))
            let served = try runtime.get("/photo/p.png")
            #expect(served.body == png)
            #expect(served.header("Content-Type") == "image/png")

            // Forwarded to a service: the same bytes, sent with their own content type.
            let forwarded = try runtime.post("/forward/p.png", json: "{}")
            #expect(forwarded.status == 200)
            let echo = try #require(stub.receivedRaw.last { $0.path == "/echo" })
            #expect(echo.body == png)
            #expect(echo.headers["content-type"] == "image/png")
            #expect(forwarded.body == png)

            // A body that is not UTF-8 and declares no type is kept as bytes too.
            let raw: [UInt8] = [0x00, 0xFF, 0xFE, 0x80, 0xC3]
            #expect(try HTTP.request("PUT", port: runtime.port, path: "/photo/raw", body: raw).status == 200)
            let rawServed = try runtime.get("/photo/raw")
            #expect(rawServed.body == raw)
            #expect(rawServed.header("Content-Type") == "application/octet-stream")
        }

        @Test(.timeLimit(.minutes(1))) func textOperationsOnBytesAreClearErrors() throws {
            let (_, stub, runtime) = try Self.start()
            defer { runtime.kill(); stub.stop() }
            #expect(try runtime.post("/fetch/a.jpg", json: "{}").status == 200)

            for path in ["/caption/a.jpg", "/str/a.jpg"] {
                let r = try runtime.get(path)
                #expect(r.status == 500)
                let message = r.json?["error"]?.stringValue ?? r.text
                #expect(message.contains("bytes of image/jpeg, not text"), "\(path): \(message)")
            }
            // Nested in a JSON answer, bytes are written as base64 with their type.
            let nested = try runtime.get("/nested/a.jpg")
            #expect(nested.status == 200)
            let photo = try #require(nested.json?["photo"])
            #expect(photo["contentType"] == "image/jpeg")
            #expect(photo["$bytes"]?.stringValue.flatMap(Base64.decode) == Self.jpeg)
        }
    }
}
