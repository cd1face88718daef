"""The codec answers the dev server's UI (`readmit run`) at both names of this host: the UI
prints `http://127.0.0.1:<port>`, a browser may as well open `http://localhost:<port>`; and
`readmit run` starts that UI with its codec endpoint set to the API's `/codec`."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from adapters.settings import Settings
from adapters.temporal.codec import Keyring
from api.app import create_app
from api.routes.codec import ui_origins
from readmit.cli.run import Node, _decode_in_ui
from readmit.embedded_temporal import DevServer
from workflows.search_attributes import REGISTRATION

pytestmark = pytest.mark.temporal

SECRET = "test-secret-for-the-codec-tests-only-0123456789"
UI_PORT = 18233
SETTINGS = Settings(
    jwt_secret=SECRET,
    payload_keys={"k1": Keyring.new_key()},
    payload_key_id="k1",
    master_keys={"m1": Keyring.new_key()},
    database_url=None,
    temporal_ui_port=UI_PORT,
)
ASKED = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
}


@pytest.fixture
async def http(time_env: WorkflowEnvironment, schema_dsn: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SETTINGS, database_url=schema_dsn, client=time_env.client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://readmit.test") as client:
            yield client


def test_the_dev_ui_is_allowed_by_both_host_names() -> None:
    origins = ui_origins(SETTINGS)
    assert f"http://localhost:{UI_PORT}" in origins
    assert f"http://127.0.0.1:{UI_PORT}" in origins
    default = ui_origins(SETTINGS.model_copy(update={"temporal_ui_port": 8233}))
    assert {"http://localhost:8233", "http://127.0.0.1:8233"} <= set(default)
    assert len(default) == len(set(default))


def test_origins_set_explicitly_replace_the_defaults() -> None:
    only = SETTINGS.model_copy(update={"codec_cors_origins": ("https://ui.example",)})
    assert ui_origins(only) == ("https://ui.example",)


async def test_preflight_from_either_name_of_the_dev_ui(http: httpx.AsyncClient) -> None:
    for origin in (f"http://localhost:{UI_PORT}", f"http://127.0.0.1:{UI_PORT}"):
        answer = await http.options("/codec/decode", headers={"Origin": origin, **ASKED})
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == origin
    other_port = f"http://127.0.0.1:{UI_PORT + 1}"
    foreign = await http.options("/codec/decode", headers={"Origin": other_port, **ASKED})
    assert "access-control-allow-origin" not in foreign.headers


def test_dev_server_command_sets_codec_and_search_attributes(tmp_path: Path) -> None:
    server = DevServer(
        home=tmp_path, port=17233, ui_port=UI_PORT, codec_endpoint="http://127.0.0.1:8000/codec"
    )
    args = server.command()
    assert args[args.index("--ui-codec-endpoint") + 1] == "http://127.0.0.1:8000/codec"
    registered = [args[i + 1] for i, arg in enumerate(args) if arg == "--search-attribute"]
    assert registered == [f"{name}={kind}" for name, kind in REGISTRATION]
    headless = DevServer(home=tmp_path, port=17233, ui_port=None, codec_endpoint="x").command()
    assert "--ui-codec-endpoint" not in headless


def test_readmit_run_points_its_ui_at_the_api_codec(tmp_path: Path) -> None:
    """`readmit run` sets the UI's codec endpoint to the node's API and tells the API which UI
    port to answer (the one it chose: another when the default is taken)."""
    with socket.socket() as api_socket:
        node = Node(
            SETTINGS.model_copy(update={"api_port": 18000}),
            ["PL"],
            dev=DevServer(home=tmp_path, port=17233, ui_port=19999),
            api_socket=api_socket,
        )
        _decode_in_ui(node)
    assert node.dev is not None and node.dev.codec_endpoint == f"{node.api_url}/codec"
    assert node.settings.temporal_ui_port == 19999
    assert "http://localhost:19999" in ui_origins(node.settings)
    headless = Node(SETTINGS, ["PL"], dev=DevServer(tmp_path, 17233, None), api_socket=api_socket)
    _decode_in_ui(headless)
    assert headless.dev is not None and headless.dev.codec_endpoint is None
