#!/usr/bin/env python3
"""Deterministic inputs for `make bench`.

    python3 bench/generate.py OUT_DIR

writes, for N in 20, 200 and 2000 handlers:
  OUT_DIR/app_N.inf   an infc app of ~100 lines per handler (2k / 20k / 200k lines) that uses every
                      construct of the language (routes, on, every interval and cron, fns called
                      sync and async, workflows with sleep and parallel, services with limit and
                      rate, tables, buckets, topics, secrets, try/catch, for/while, interpolation)
  OUT_DIR/py_N.py     a Python file with the same number of lines and about the same bytes, for
                      the CPython `ast.parse` reference
and OUT_DIR/runtime.inf, the small app the runtime measurements run against.

A "handler" here is any route, on, every or fn declaration. Nothing is random: the same
OUT_DIR contents come out on every run.
"""
import os
import sys

SIZES = (20, 200, 2000)
HANDLERS_PER_UNIT = 10


def filler(var: str, seed: int, lines: int, indent: str = "  ") -> list:
    """Straight-line, loop and branch code that only touches `var` (so nothing is unused)."""
    out = []
    i = 0
    while len(out) < lines:
        k = (seed * 7 + i) % 5
        if k == 0:
            out.append(f"{indent}{var} = {var} + {i % 9 + 1} * {(seed + i) % 13 + 1}")
        elif k == 1:
            out.append(f'{indent}{var} = {var} + len("item-{seed}-{i}-{{{var}}}")')
        elif k == 2 and len(out) + 3 <= lines:
            out += [f"{indent}for j in range({i % 4 + 2}) {{",
                    f"{indent}  {var} = {var} + j % {i % 3 + 2}",
                    f"{indent}}}"]
        elif k == 3 and len(out) + 5 <= lines:
            out += [f"{indent}if {var} % {i % 5 + 2} == 0 {{",
                    f"{indent}  {var} = {var} / 2",
                    f"{indent}}} else {{",
                    f"{indent}  {var} = {var} * 3 + {i % 7}",
                    f"{indent}}}"]
        elif k == 4 and len(out) + 4 <= lines:
            out += [f"{indent}var w{i} = {i % 6 + 1}",
                    f"{indent}while w{i} > 0 {{",
                    f"{indent}  {var} = {var} + w{i}; w{i} = w{i} - 1",
                    f"{indent}}}"]
        else:
            out.append(f"{indent}{var} = max({var}, {i}) - min({var}, {i % 11})")
        i += 1
    return out


def unit(u: int) -> list:
    """Ten handlers: 2 routes, 1 on, 2 every (interval + cron), 5 fns (async, workflow, steps)."""
    L = [
        f"// ---- unit {u} ----",
        f"table orders_{u}",
        f"bucket receipts_{u}",
        f"topic events_{u}",
        f'service pay_{u} "https://pay{u}.example.com/v1" limit 4 rate 50/s',
        "",
        f'route POST "/u{u}/orders" (req) timeout 5s {{',
        f"  let qty = req.body.qty ?? 1",
        f'  let order = {{ id: uuid(), unit: {u}, item: req.body.item ?? "none", qty: qty, status: "new" }}',
        f"  orders_{u}.put(order.id, order)",
        f"  async charge_{u}(order)",
        f"  var score = price_{u}(qty)",
    ]
    L += filler("score", u * 10 + 1, 90)
    L += [
        f'  return {{ status: 202, body: merge(order, {{ score: score, note: "unit {u} took {{qty}}" }}) }}',
        "}",
        "",
        f'route GET "/u{u}/orders/:id" (req) {{',
        f"  let order = orders_{u}.get(req.params.id)",
        f'  if order == null {{ return {{ status: 404, body: {{ error: "no such order in unit {u}" }} }} }}',
        f"  var seen = 0",
    ]
    L += filler("seen", u * 10 + 2, 90)
    L += [
        f"  return merge(order, {{ seen: seen }})",
        "}",
        "",
        f"fn charge_{u}(order) retry 3 backoff 2s {{",
        f"  try {{",
        f'    let payment = pay_{u}.post("/charges", {{ amount: order.qty * 10, key: bench_key.value() }})',
        f'    orders_{u}.put(order.id, merge(order, {{ status: "paid", payment: payment.id }}))',
        f'    events_{u}.publish({{ type: "paid", id: order.id }})',
        f"  }} catch e {{",
        f'    orders_{u}.put(order.id, merge(order, {{ status: "failed", error: str(e) }}))',
        f"    throw e",
        f"  }}",
        f"  var tries = 0",
    ]
    L += filler("tries", u * 10 + 3, 90)
    L += [
        f'  log("charged {{order.id}} after {{tries}}")',
        "}",
        "",
        f"on events_{u} (event) {{",
        f'  receipts_{u}.put("{{event.id}}.txt", "order {{event.id}}: {{event.type}}")',
        f'  if event.type == "paid" {{ async follow_{u}(event.id) }}',
        f"  var n = 0",
    ]
    L += filler("n", u * 10 + 4, 90)
    L += [
        f'  log("event {{n}}")',
        "}",
        "",
        f"fn follow_{u}(id) {{",
        f"  sleep 1d",
        f"  parallel {{",
        f"    let a = step_a_{u}(id)",
        f"    let b = step_b_{u}(id)",
        f"  }}",
        f'  receipts_{u}.put("follow/{{id}}.txt", "a={{a}} b={{b}}")',
        f"  var z = a + b",
    ]
    L += filler("z", u * 10 + 5, 90)
    L += [
        f'  log("followed {{id}}: {{z}}")',
        "}",
        "",
        f"fn step_a_{u}(id) {{",
        f"  let order = orders_{u}.get(id)",
        f"  var a = len(str(order))",
    ]
    L += filler("a", u * 10 + 6, 95)
    L += [f"  return a", "}", ""]
    L += [
        f"fn step_b_{u}(id) {{",
        f'  let files = receipts_{u}.list("{{id}}")',
        f"  var b = len(files)",
    ]
    L += filler("b", u * 10 + 7, 95)
    L += [f"  return b", "}", ""]
    L += [
        f"every {u % 50 + 5}m {{",
        f"  for o in orders_{u}.scan() {{",
        f'    if o.status == "new" {{ async charge_{u}(o) }}',
        f"  }}",
        f"  var swept = 0",
    ]
    L += filler("swept", u * 10 + 8, 90)
    L += [f'  log("swept {{swept}}")', "}", ""]
    L += [
        f'every "{u % 60} {u % 24} * * *" {{',
        f'  for key in receipts_{u}.list("follow/") {{',
        f"    receipts_{u}.delete(key)",
        f"  }}",
        f"  var kept = 0",
    ]
    L += filler("kept", u * 10 + 9, 92)
    L += [f'  log("kept {{kept}}")', "}", ""]
    L += [
        f"fn price_{u}(qty) {{",
        f"  var p = qty * {u % 17 + 3}",
    ]
    L += filler("p", u * 10 + 10, 96)
    L += [f"  return p", "}", ""]
    return L


def app(handlers: int) -> str:
    L = [f"// generated by bench/generate.py: {handlers} handlers",
         f"app bench_{handlers} {{ max_resources: 100000, account_concurrency: 1000000, unreserved_concurrency: 100 }}",
         "secret bench_key", ""]
    for u in range(handlers // HANDLERS_PER_UNIT):
        L += unit(u)
    return "\n".join(L) + "\n"


def python_like(lines: int, target_bytes: int) -> str:
    """Python with functions, loops, try/except and f-strings, of the same size in bytes as the
    .inf file (Python lines are longer, so it has fewer lines; `lines` is only reported)."""
    out = ["# generated by bench/generate.py: CPython ast.parse reference", "import json", ""]
    u = 0
    while True:
        block = [
            f"def create_{u}(body):",
            f"    q = body.get('qty', 1)",
            f"    o = {{'id': str(q), 'u': {u}, 'item': body.get('item')}}",
            f"    s = 0",
        ]
        for i in range(80):
            k = (u + i) % 4
            if k == 0:
                block.append(f"    s = s + {i % 9 + 1} * {(u + i) % 13 + 1}")
            elif k == 1:
                block.append(f"    s += len(f'i-{u}-{i}-{{s}}')")
            elif k == 2:
                block.append(f"    for j in range({i % 4 + 2}): s += j")
            else:
                block.append(f"    s = max(s, {i}) - min(s, {i % 11})")
        block += [
            f"    try:",
            f"        p = json.dumps(o)",
            f"    except ValueError as e:",
            f"        raise RuntimeError(str(e))",
            f"    return {{'status': 202, 'body': o, 's': s, 'n': len(p)}}",
            "",
        ]
        if sum(len(x) + 1 for x in out + block) > target_bytes:
            break
        out += block
        u += 1
    text = "\n".join(out) + "\n"
    while len(text) < target_bytes:
        text += f"v{u} = {u} * 2\n"
        u += 1
    return text


RUNTIME_APP = """// generated by bench/generate.py: the runtime benchmark app
app rtbench { max_resources: 1000 }

table items
table counters
topic ticks
secret bench_key

route GET "/hello" (_req) {
  return { ok: true }
}

route GET "/items/:id" (req) {
  let item = items.get(req.params.id)
  if item == null { return { status: 404, body: { error: "no such item" } } }
  return item
}

route PUT "/items/:id" (req) {
  items.put(req.params.id, { id: req.params.id, name: "item {req.params.id}", price: 42 })
  return { status: 201, body: { id: req.params.id } }
}

// enqueue n messages for consume (1 consumer) or consume8 (8 consumers)
route POST "/enqueue" (req) {
  let n = req.body.n ?? 100
  let run = req.body.run ?? "r"
  for i in range(n) {
    if req.body.wide == true { async consume8(run, i) } else { async consume1(run, i) }
  }
  return { status: 202, body: { queued: n } }
}

fn consume1(run, i) limit 1 {
  counters.put("{run}-{i}", { i: i })
}

fn consume8(run, i) limit 8 {
  counters.put("{run}-{i}", { i: i })
}

route GET "/count/:prefix" (req) {
  var n = 0
  for _c in counters.scan() { n = n + 1 }
  return { n: n, prefix: req.params.prefix }
}

// workflows: a 5-step workflow, and one that sleeps (resumed after a restart)
route POST "/flows" (req) {
  let n = req.body.n ?? 10
  let run = req.body.run ?? "w"
  for i in range(n) {
    if req.body.sleepy == true { async sleeper(run, i) } else { async five(run, i) }
  }
  return { status: 202, body: { started: n } }
}

fn five(run, i) {
  let a = step(i, 1)
  let b = step(a, 2)
  sleep 1ms
  let c = step(b, 3)
  let d = step(c, 4)
  let e = step(d, 5)
  counters.put("{run}-{i}", { done: e })
}

fn sleeper(run, i) {
  sleep 1h
  counters.put("{run}-{i}", { woke: true })
}

fn step(x, k) {
  return x + k
}

on ticks (t) {
  let key = bench_key.value() ?? "none"
  log("tick {t.n} {len(key)}")
}

every 1h {
  ticks.publish({ n: 1 })
}
"""


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "bench/generated"
    os.makedirs(out, exist_ok=True)
    for n in SIZES:
        text = app(n)
        with open(os.path.join(out, f"app_{n}.inf"), "w") as f:
            f.write(text)
        py = python_like(text.count("\n"), len(text.encode()))
        with open(os.path.join(out, f"py_{n}.py"), "w") as f:
            f.write(py)
        print(f"app_{n}.inf: {text.count(chr(10))} lines, {len(text.encode())} bytes; "
              f"py_{n}.py: {py.count(chr(10))} lines, {len(py.encode())} bytes")
    with open(os.path.join(out, "runtime.inf"), "w") as f:
        f.write(RUNTIME_APP)


if __name__ == "__main__":
    main()
