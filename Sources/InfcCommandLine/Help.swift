// infc driver: `infc help [COMMAND]` — the text is the truth about every command and flag.

enum Help {
    struct Command {
        var name: String
        var summary: String
        var usage: String
        var details: String
    }

    static let commonFlags = """
    Common flags:
      --max-resources N        override the resource budget (default 200, or the app's max_resources)
      --color auto|always|never
      -q, --quiet              print only problems
    """

    static let commands: [Command] = [
        Command(name: "check", summary: "parse, resolve, infer and check a program; print diagnostics",
                usage: "infc check FILE... [--format text|json|gcc] [--color auto|always|never] [--max-resources N] [-q]",
                details: """
                Exit status: 0 when there are no errors (warnings allowed), 1 when there are errors, 2 for
                usage or IO problems.
                  --format text   rustc-style diagnostics with source excerpts (default)
                  --format json   one JSON object per file: diagnostics with ranges, codes, notes and fix-its
                  --format gcc    file:line:col: severity: message [code], for editor problem matchers
                """),
        Command(name: "build", summary: "check, then write the build directory the runtime runs",
                usage: "infc build FILE [-o DIR] [--target local|aws] [--max-resources N] [-q]",
                details: """
                Writes DIR (default build/): manifest.json (the plan: functions, queues, workflows, limits,
                permissions, budget) and code/FILE. Building the same source twice gives identical files.
                Prints what was inferred and the resource count against the cap. Exit 1 on errors.
                --target aws writes DIR/template.json instead: one CloudFormation stack whose resources
                are the budget's count (docs/aws.md).
                """),
        Command(name: "package", summary: "check, then write the AWS target's code package (a deterministic zip)",
                usage: "infc package FILE [-o DIR] [--bootstrap PATH] [--max-resources N] [-q]",
                details: """
                Writes DIR/package.zip (default build/): the Lambda bootstrap as `bootstrap` (mode 755), then
                manifest.json and code/FILE, exactly what 'infc build' writes. Entries are sorted and dated
                1980-01-01, so the same inputs give the same bytes (and the same SHA-256, which 'infc deploy'
                names the upload by). The bootstrap is --bootstrap PATH, else infc-lambda beside infc.
                """),
        Command(name: "deploy", summary: "build the AWS template and code package, and create or update the stack",
                usage: "infc deploy FILE --stack NAME [--region R] [--endpoint URL] [--profile P] [--bucket B] [--bootstrap PATH] [--secrets .env]",
                details: """
                Checks FILE, builds its template and package (see 'infc package'), uploads the package to the
                artifact bucket under its SHA-256 (skipped when it is there already; the bucket is --bucket B,
                else infc-artifacts-ACCOUNT-REGION, created when missing), then creates or updates the stack
                NAME through a change set. Prints each stack event as it arrives with a progress line, waits,
                and prints the stack's outputs (the API URL). A deploy with nothing to change says so and exits 0.
                --secrets FILE sets each secret the app declares from FILE (NAME=value or INFC_SECRET_NAME=value
                lines, as .env for 'infc run') in Secrets Manager as STACK/NAME; values are never printed.
                AWS settings: credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN),
                else the profile (--profile P, else AWS_PROFILE, else default) of ~/.aws/credentials or
                ~/.aws/config; the region from --region, else AWS_REGION, else the profile's; --endpoint URL
                sends every call to one endpoint (an emulator), else AWS_ENDPOINT_URL[_SERVICE].
                Exit status: 0 deployed (or nothing to change), 1 AWS refused or rolled back the change (the
                line names the failing resource and AWS's reason), 2 usage, settings, access or network problems.
                """),
        Command(name: "destroy", summary: "delete a stack; its tables, buckets, queues and secrets are kept",
                usage: "infc destroy --stack NAME [--region R] [--endpoint URL] [--profile P]",
                details: """
                Deletes the stack NAME, printing each event as it arrives, and lists what it keeps: resources
                with DeletionPolicy Retain (tables, buckets, queues, dead-letter queues and secrets) stay with
                their data; delete them by hand when the data is no longer needed. The artifact bucket is kept
                too. A stack that does not exist is nothing to delete (exit 0). AWS settings as for 'infc deploy'.
                """),
        Command(name: "explain", summary: "the inferred plan in words: what each handler became and why",
                usage: "infc explain FILE [--max-resources N]",
                details: "Per handler: function, queue, workflow, limit and permissions, each with the line that caused it."),
        Command(name: "graph", summary: "the architecture diagram: DOT, Mermaid or JSON, offline and deterministic",
                usage: "infc graph FILE [--format dot|mermaid|json] [--target local|aws] [-o OUT] [--focus NAME] [--max-resources N]",
                details: """
                Draws the plan that 'infc build' emits: routes, functions, queues and dead-letter queues, topics,
                schedules, workflows (a cluster of their states), tables, buckets, secrets and services, with
                trigger, async, start, invoke, step and data edges (labelled read, write, list, publish, call).
                  --format dot       Graphviz (default); render with 'dot -Tsvg OUT.dot -o OUT.svg'
                  --format mermaid   a Mermaid flowchart, one subgraph per workflow
                  --format json      nodes, edges and clusters with source ranges (docs/graph.md)
                  --target aws       draw each workflow as the Step Functions state machine the AWS
                                     target emits (its states and transitions)
                  -o OUT             write to OUT instead of stdout
                  --focus NAME       only what one handler, fn or resource touches (one hop), e.g. charge,
                                     orders, 'POST /orders'; its workflow is drawn whole
                """),
        Command(name: "run", summary: "run a build directory locally: routes, queues, schedules, workflows",
                usage: "infc run [BUILD_DIR] [--port N] [--state DIR] [--log-format text|json] [--time-scale N]",
                details: """
                Serves BUILD_DIR (default build/) on 127.0.0.1 with its state in a SQLite file under --state
                (default .infc/ beside the app). --port 0 picks a free port. Prints one line per invocation.
                Secrets come from INFC_SECRET_<NAME> or .env beside the app; INFC_SERVICE_<NAME>_URL points a
                service at a local stub. --time-scale N (or INFC_TIME_SCALE) divides sleeps, schedule
                intervals and retry backoffs by N, for tests. GET /_infc/status shows the runtime's state.
                SIGINT/SIGTERM finish work in progress and exit 0; a second signal exits at once.
                """),
        Command(name: "dev", summary: "build, run and watch a program; rebuild on save",
                usage: "infc dev FILE [--port N] [--state DIR] [--log-format text|json] [--time-scale N]",
                details: """
                Builds FILE into .infc/build beside it and runs it like 'infc run'. On save it rebuilds and
                swaps the new version in, keeping state and queued messages; while the new source has errors
                it prints them and the old version keeps serving.
                """),
        Command(name: "status", summary: "queue depths, dead letters, schedules, workflows and invocation counts",
                usage: "infc status [--state DIR] [--format text|json]",
                details: """
                Reads the state database (default .infc/), also while the runtime runs: queue depths, the newest
                dead letters with every attempt's time and error, schedules with their next firing, running,
                sleeping and failed workflows (id and error), invocation counts.
                """),
        Command(name: "table", summary: "read and write a table's documents in the local state",
                usage: "infc table NAME get KEY | put KEY JSON | delete KEY | scan [--state DIR] [--build DIR] [--format text|json]",
                details: """
                Works on the state database (default .infc/), also while the runtime runs. JSON may be '-' for
                standard input; strings are quoted: infc table users put ada '{"name": "Ada"}'. --build DIR
                (default: the running runtime's, else build/) names the app whose tables these are.
                """),
        Command(name: "bucket", summary: "read and write a bucket's objects in the local state",
                usage: "infc bucket NAME get KEY [-o FILE] | put KEY FILE|- [--content-type T] | delete KEY | list [PREFIX] [--state DIR] [--build DIR]",
                details: """
                Objects are bytes: get writes them as stored (to standard output or -o FILE); put stores a file
                byte for byte, as bytes of --content-type T (else a type guessed from the file's extension,
                else text when it is UTF-8).
                """),
        Command(name: "invoke", summary: "run a function of the running app, or start a workflow",
                usage: "infc invoke FN [JSON ARG...] [--state DIR]",
                details: """
                Asks the runtime running on --state (default .infc/) to run FN with the arguments, one JSON
                value each (infc invoke charge '{"id": "o1", "qty": 2}'), with FN's permissions, limit and
                timeout, and prints its result; exit 1 when it fails. A workflow fn is started instead and
                its execution id printed. A fn that only runs inside its callers cannot be invoked alone.
                """),
        Command(name: "publish", summary: "publish a message to a topic of the running app",
                usage: "infc publish TOPIC JSON [--state DIR]",
                details: "Delivers JSON to every subscriber of TOPIC through the running runtime, as a publish in the app would."),
        Command(name: "schedule", summary: "list the schedules with their next firing, or fire one now",
                usage: "infc schedule list | fire NAME [--state DIR] [--build DIR] [--format text|json]",
                details: """
                list reads the state (also while the runtime runs). fire NAME asks the running runtime to run
                the schedule once now, as a firing would (queued, retried like one); its own timing is unchanged.
                """),
        Command(name: "trace", summary: "the tree of one request's work across functions, queues and workflows",
                usage: "infc trace [ID] [--state DIR] [--format text|json]",
                details: "ID is the X-Trace-Id of a response (or a unique prefix); without ID, the recent traces."),
        Command(name: "new", summary: "create a new app from a template",
                usage: "infc new NAME [--template api|worker|workflow]",
                details: "Creates the directory NAME with app.inf and a README. Refuses to overwrite an existing directory."),
        Command(name: "dump", summary: "show a compiler stage: tokens, ast or plan",
                usage: "infc dump tokens|ast|plan FILE", details: "For bug reports and curiosity; the format may change."),
        Command(name: "lsp", summary: "run the language server on stdin/stdout (for editors)",
                usage: "infc lsp [--debounce-ms N] [--request-deadline-ms N]", details: "Speaks LSP 3.17 over stdio; docs/editors.md shows how to set up VS Code, Neovim, Vim, Helix and Emacs. Diagnostics are computed N ms (default 5) after the last change; a request still waiting for an analysis after the deadline (default 1000 ms) is answered from the last finished one."),
        Command(name: "version", summary: "print the version", usage: "infc version", details: ""),
        Command(name: "help", summary: "show help for infc or one command", usage: "infc help [COMMAND]", details: ""),
    ]

    static var overview: String {
        let width = commands.map(\.name.count).max() ?? 8
        var s = """
        infc — an infrastructure-from-code compiler: write one .inf program; infc infers its functions,
        queues, limits, workflows and permissions, checks the resource budget, and runs it locally.

        Usage: infc COMMAND [options]

        Commands:

        """
        for c in commands {
            s += "  " + c.name + String(repeating: " ", count: width - c.name.count + 3) + c.summary + "\n"
        }
        s += "\n" + commonFlags + "\n\nRun 'infc help COMMAND' for a command's options."
        return s
    }

    static func command(_ name: String) -> String? {
        guard let c = commands.first(where: { $0.name == name }) else { return nil }
        var s = "infc \(c.name) — \(c.summary)\n\nUsage: \(c.usage)\n"
        if !c.details.isEmpty { s += "\n" + c.details + "\n" }
        return s
    }
}
