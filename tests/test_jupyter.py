"""The notebooks as a person opens them: a Jupyter server (what ``./run_all.sh --lab`` starts,
without the browser) serves ``notebooks/01_data.py`` as a notebook through jupytext's contents
manager, and its cells run in a kernel of that server, on the smoke profile."""
from __future__ import annotations

import asyncio
import datetime
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

pytest.importorskip("jupyter_server", reason="jupyter_server is not installed (pip install -e '.[lab]')")
pytest.importorskip("tornado.websocket", reason="tornado is not installed")

ROOT = Path(__file__).resolve().parents[1]
SMOKE = 'profile = "smoke"\nseeds = [0]\n'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A Jupyter server on 127.0.0.1, a random port and a random token, rooted in notebooks/;
    stopped (its process, by id) after the module."""
    tmp = tmp_path_factory.mktemp("jupyter")
    token = secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), JUPYTER_CONFIG_DIR=str(tmp / "config"),
               JUPYTER_DATA_DIR=str(tmp / "data"), IPYTHONDIR=str(tmp / "ipython"), MPLBACKEND="Agg",
               TACR_FIGURES=str(tmp / "figures"), TACR_CACHE=str(tmp / "runs"), OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "jupyter_server", "--no-browser", "--ServerApp.ip=127.0.0.1", "--ServerApp.port=0",
           f"--ServerApp.root_dir={ROOT / 'notebooks'}", f"--IdentityProvider.token={token}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp / "server.log", "w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        info = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and info is None:
            if proc.poll() is not None:
                pytest.fail(f"jupyter server exited: {(tmp / 'server.log').read_text()[-2000:]}")
            for f in (tmp / "runtime").glob("jpserver-*.json"):
                data = json.loads(f.read_text() or "{}")
                if data.get("pid") == proc.pid and data.get("port"):
                    info = data
            time.sleep(0.2)
        assert info, f"no server runtime file: {(tmp / 'server.log').read_text()[-2000:]}"
        yield {"url": f"http://127.0.0.1:{info['port']}", "ws": f"ws://127.0.0.1:{info['port']}", "token": token,
               "figures": tmp / "figures", "log": tmp / "server.log"}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def api(server, method: str, path: str, body=None) -> dict | None:
    req = urllib.request.Request(f"{server['url']}{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"token {server['token']}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        text = r.read()
    return json.loads(text) if text else None


def test_py_file_opens_as_notebook(server):
    model = api(server, "GET", "/api/contents/01_data.py?type=notebook&content=1")
    assert model["type"] == "notebook" and model["format"] == "json"
    cells = model["content"]["cells"]
    assert any("parameters" in c["metadata"].get("tags", []) for c in cells)
    assert sum(c["cell_type"] == "code" for c in cells) >= 3
    listing = api(server, "GET", "/api/contents/")
    assert {"01_data.py", "09_temperature.py"} <= {c["name"] for c in listing["content"]}
    with pytest.raises(urllib.request.HTTPError) as e:  # the token is required
        urllib.request.urlopen(f"{server['url']}/api/contents/01_data.py", timeout=30)
    assert e.value.code in (401, 403)


async def run_cells(server, kernel_id: str, sources: list[str], timeout: float = 240) -> list[dict]:
    """Execute each source on the kernel's channels (websocket); return the execute_reply
    contents, with the error/stream outputs gathered per cell."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    session = uuid.uuid4().hex
    req = HTTPRequest(f"{server['ws']}/api/kernels/{kernel_id}/channels?session_id={session}",
                      headers={"Authorization": f"token {server['token']}"})
    conn = await websocket_connect(req)
    replies = []
    try:
        for code in sources:
            msg_id = uuid.uuid4().hex
            await conn.write_message(json.dumps({
                "header": {"msg_id": msg_id, "username": "test", "session": session, "msg_type": "execute_request",
                           "version": "5.3", "date": datetime.datetime.now(datetime.timezone.utc).isoformat()},
                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                            "allow_stdin": False, "stop_on_error": True}}))
            outputs, reply = [], None
            end = time.monotonic() + timeout
            while reply is None:
                raw = await asyncio.wait_for(conn.read_message(), timeout=max(1.0, end - time.monotonic()))
                assert raw is not None, "kernel channel closed"
                msg = json.loads(raw)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = msg["header"]["msg_type"]
                if kind in ("error", "stream"):
                    outputs.append(msg["content"])
                elif kind == "execute_reply":
                    reply = msg["content"] | {"outputs": outputs}
            replies.append(reply)
            if reply["status"] != "ok":
                break
    finally:
        conn.close()
    return replies


@pytest.mark.notebooks
def test_notebook_runs_in_a_server_kernel(server):
    """01_data.py, opened through the contents API, runs cell by cell in a server kernel with
    the smoke parameters injected after its parameters cell (as papermill does)."""
    nb = api(server, "GET", "/api/contents/01_data.py?type=notebook&content=1")["content"]
    sources = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        sources.append(cell["source"])
        if "parameters" in cell["metadata"].get("tags", []):
            sources.append(SMOKE)
    kernel = api(server, "POST", "/api/kernels", {"name": "python3"})
    try:
        replies = asyncio.run(run_cells(server, kernel["id"], [f"import os; os.chdir({str(ROOT)!r})"] + sources))
    finally:
        api(server, "DELETE", f"/api/kernels/{kernel['id']}")
    failed = [r for r in replies if r["status"] != "ok"]
    assert not failed, f"{failed[0].get('ename')}: {failed[0].get('evalue')}\n" + "\n".join(
        "".join(o.get("traceback", [])) or o.get("text", "") for o in failed[0]["outputs"])[-3000:]
    assert len(replies) == len(sources) + 1
    assert (server["figures"] / "table1_data.md").is_file()  # the notebook wrote its table where TACR_FIGURES says
    assert api(server, "GET", "/api/kernels") == []
