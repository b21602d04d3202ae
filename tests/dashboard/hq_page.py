"""The "HQ live" tab alone under Streamlit's AppTest, and a stand-in service that counts what it is asked."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def hq_page():
    """The tab as the page draws it, run once (nothing pressed)."""
    from streamlit.testing.v1 import AppTest

    def script():
        from dashboards import hq_view

        hq_view.hq_tab()

    at = AppTest.from_function(script, default_timeout=240)
    at.run()
    return at


def ask(at, url: str, credentials: str, quake: str = "", add: str = "", reps: int = 10):
    """Fill the tab's inputs and press Refresh."""
    at.text_input(key="hq:url").set_value(url)
    at.text_input(key="hq:credentials").set_value(credentials)
    at.text_input(key="hq:quake").set_value(quake)
    at.text_area(key="hq:add").set_value(add)
    at.number_input(key="hq:reps").set_value(reps)
    at.button(key="hq:refresh").click().run()
    return at


class Stub:
    """An HTTP server on 127.0.0.1 answering every GET with one status and JSON body; counts the requests."""

    def __init__(self, status: int, body: dict) -> None:
        self.hits: list[str] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server name
                stub.hits.append(self.path)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
