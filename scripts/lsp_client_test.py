"""A third-party LSP client (pytest-lsp, on pygls) drives `infc lsp`: open, change, hover,
code lens, shutdown. Run by the Swift end-to-end tests with INFC set to the built binary; by hand:

    INFC=.build/debug/infc python3 -m pytest -q scripts/lsp_client_test.py
"""
import asyncio
import os

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

INFC = os.environ.get("INFC", os.path.join(os.path.dirname(__file__), "..", ".build", "debug", "infc"))
URI = "file:///tmp/infc-pytest-lsp/app.inf"
SOURCE = """app demo

table orders
service payments "https://payments.example.com" limit 10

route POST "/orders" (req) {
  let order = { id: uuid(), note: "café 😀" }
  orders.put(order.id, order)
  async charge(order)
  return { status: 202, body: order }
}

fn charge(order) retry 3 {
  payments.post("/charges", { id: order.id })
}
"""


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[INFC, "lsp"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        types.InitializeParams(capabilities=pytest_lsp.client_capabilities("visual-studio-code"))
    )
    yield
    # The test itself shuts the server down and checks its exit status.


async def diagnostics_for(client: LanguageClient, version: int):
    """The diagnostics published for a document version (waiting at most 10 s for each).

    Call it right after the notification that causes them, before anything else yields."""
    while True:
        params = await asyncio.wait_for(client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 10)
        if params.uri == URI and params.version == version:
            return params.diagnostics


def position_of(needle: str, shift: int = 0) -> types.Position:
    for line, text in enumerate(SOURCE.split("\n")):
        if needle in text:
            prefix = text[: text.index(needle)]
            return types.Position(line=line, character=len(prefix.encode("utf-16-le")) // 2 + shift)
    raise AssertionError(needle)


@pytest.mark.asyncio
async def test_open_change_hover_shutdown(client: LanguageClient):
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=URI, language_id="infc", version=1, text=SOURCE)
        )
    )
    opened = await diagnostics_for(client, 1)
    assert [d for d in opened if d.severity == types.DiagnosticSeverity.Error] == []

    # Replace `put` (after a line with non-ASCII text) by an operation tables do not have.
    put = position_of("orders.put", shift=len("orders."))
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=put, end=types.Position(line=put.line, character=put.character + 3)),
                    text="fetch",
                )
            ],
        )
    )
    changed = await diagnostics_for(client, 2)
    errors = [d for d in changed if d.severity == types.DiagnosticSeverity.Error]
    assert len(errors) == 1 and errors[0].code == "E0204", changed
    assert errors[0].range.start == put

    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=URI), position=position_of("fn charge", 4))
    )
    assert hover is not None
    assert "fn charge(order) retry 3" in hover.contents.value
    assert "payments.post" in hover.contents.value
    # What it became (the plan is built best effort even while the document has an error).
    assert "function `charge`" in hover.contents.value
    assert "`charge-queue`" in hover.contents.value
    assert "**Limit** 10 — from service `payments`" in hover.contents.value
    assert "- `call service payments`" in hover.contents.value

    # A code lens on each handler summarises its plan.
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=URI))
    )
    titles = {lens.range.start.line: lens.command.title for lens in lenses or [] if lens.command}
    charge = titles.get(position_of("fn charge").line, "")
    assert charge.startswith("function · queue · limit 10"), titles

    # shutdown, then exit: the server ends with status 0.
    await asyncio.wait_for(client.shutdown_session(), 10)
    assert client._server is not None and client._server.returncode == 0
