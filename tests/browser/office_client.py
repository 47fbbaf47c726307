"""A stand-in WOPI client ("office") for the browser tests, served by the test on a loopback port.

It does what Office for the web, Collabora Online or ONLYOFFICE do, in miniature:

- serves a discovery XML (`/hosting/discovery`) whose actions lead to its own frame pages and whose proof key
  is a key pair made for this run;
- receives the host page's form POST (access_token, access_token_ttl) at the action URL;
- calls the host's WOPI endpoints server-side, every call signed with the proof key (WOPI_DIGEST.md section 7):
  CheckFileInfo, Lock, GetFile when a document opens; PutFile and Unlock when the page's Save is clicked (Lock
  first, when an earlier Save released the lock). A document that CheckFileInfo says is read-only (ReadOnly, or
  no UserCanWrite) is not locked, and its page shows "read-only" with Save disabled. A save the host refuses
  shows the refusal in the page's status ("Refused: PutFile 404");
- renders a page that answers the host page's Host_PostmessageReady with App_LoadingStatus, and posts UI_Close,
  UI_Sharing, UI_FileVersions, File_Rename, Edit_Notification and UI_Edit when its buttons are clicked.

Everything it saw is kept in `events`, for the tests to assert on.
"""

from __future__ import annotations

import base64
import html
import json
import secrets
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from string import Template
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import quoteattr

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

TICKS_AT_UNIX_EPOCH = 621355968000000000
APPS = {
    "Word": ("docx", "odt", "wopitest"),
    "Excel": ("xlsx", "ods"),
    "PowerPoint": ("pptx", "odp"),
}
ACTIONS = ("view", "edit", "editnew")


def _b64_int(value: int) -> str:
    return base64.b64encode(value.to_bytes((value.bit_length() + 7) // 8, "big")).decode("ascii")


def _csp_blob(public: rsa.RSAPublicNumbers, bits: int) -> str:
    """The .NET `value` form of a public key: PUBLICKEYBLOB header, RSAPUBKEY, then the modulus little-endian."""
    header = struct.pack("<BBHI", 0x06, 0x02, 0, 0x0000A400) + b"RSA1" + struct.pack("<II", bits, public.e)
    return base64.b64encode(header + public.n.to_bytes(bits // 8, "little")).decode("ascii")


def proof(token: str, url: str, ticks: int) -> bytes:
    """The bytes a WOPI client signs: [len][token][len][URL upper-cased][8][ticks], big-endian lengths."""
    token_bytes, url_bytes = token.encode(), url.upper().encode()
    return (
        struct.pack(">i", len(token_bytes))
        + token_bytes
        + struct.pack(">i", len(url_bytes))
        + url_bytes
        + struct.pack(">iq", 8, ticks)
    )


@dataclass
class Session:
    """One document opened in the stand-in: what it needs to save and close it."""

    wopi_src: str
    token: str
    action: str
    lock_id: str
    name: str = ""
    contents: bytes = b""
    read_only: bool = False
    locked: bool = False


class SaveRefused(Exception):
    """The host refused one of the calls a Save makes."""

    def __init__(self, operation: str, status: int) -> None:
        super().__init__(f"{operation} {status}")
        self.operation = operation
        self.status = status


@dataclass
class Event:
    kind: str  # "form" (the host page's POST), "wopi" (a call we made), "page" (a page we served)
    details: dict[str, Any] = field(default_factory=dict)


class StandInOffice:
    def __init__(self, host_origin: str) -> None:
        self.host_origin = host_origin  # where our pages send postMessage, and the only origin they listen to
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.events: list[Event] = []
        self.sessions: dict[str, Session] = {}
        self._http = httpx.Client(timeout=30)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="stand-in-office", daemon=True)

    @property
    def discovery_url(self) -> str:
        return f"{self.origin}/hosting/discovery"

    def start(self) -> StandInOffice:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._http.close()

    def wopi_calls(self) -> list[tuple[str, int]]:
        return [(event.details["operation"], event.details["status"]) for event in self.events if event.kind == "wopi"]

    def forms(self) -> list[dict[str, Any]]:
        return [event.details for event in self.events if event.kind == "form"]

    # ---- discovery ----

    def discovery_xml(self) -> bytes:
        public = self._key.public_key().public_numbers()
        placeholders = (
            "&lt;ui=UI_LLCC&amp;&gt;&lt;rs=DC_LLCC&amp;&gt;&lt;wopisrc=WOPI_SOURCE&amp;&gt;&lt;nf=NEW_FEATURE&amp;&gt;"
        )
        apps = []
        for app, extensions in APPS.items():
            actions = []
            for extension in extensions:
                for action in ACTIONS:
                    requires = ' requires="locks,update"' if action != "view" else ""
                    default = ' default="true"' if action == "edit" else ""
                    urlsrc = f"{self.origin}/frame/{action}?{placeholders}"
                    actions.append(f'<action name="{action}" ext="{extension}"{requires}{default} urlsrc="{urlsrc}"/>')
            favicon = quoteattr(f"{self.origin}/favicon/{app.lower()}.svg")
            apps.append(f'<app name="{app}" favIconUrl={favicon} checkLicense="false">{"".join(actions)}</app>')
        value = _csp_blob(public, 2048)
        proof_key = (
            f'<proof-key value="{value}" modulus="{_b64_int(public.n)}" exponent="{_b64_int(public.e)}" '
            f'oldvalue="{value}" oldmodulus="{_b64_int(public.n)}" oldexponent="{_b64_int(public.e)}"/>'
        )
        document = (
            '<?xml version="1.0" encoding="utf-8"?><wopi-discovery>'
            f'<net-zone name="external-http">{"".join(apps)}</net-zone>{proof_key}</wopi-discovery>'
        )
        return document.encode()

    # ---- signed WOPI calls ----

    def _signed(self, method: str, url: str, token: str, operation: str, **kwargs: Any) -> httpx.Response:
        ticks = int(time.time() * 10_000_000) + TICKS_AT_UNIX_EPOCH
        signature = self._key.sign(proof(token, url, ticks), padding.PKCS1v15(), hashes.SHA256())
        encoded = base64.b64encode(signature).decode("ascii")
        headers = {
            "X-WOPI-Proof": encoded,
            "X-WOPI-ProofOld": encoded,
            "X-WOPI-TimeStamp": str(ticks),
            **kwargs.pop("headers", {}),
        }
        response = self._http.request(method, url, headers=headers, **kwargs)
        self.events.append(Event("wopi", {"operation": operation, "status": response.status_code}))
        return response

    def open_document(self, action: str, wopi_src: str, token: str) -> Session:
        query = f"?access_token={token}"
        info = self._signed("GET", wopi_src + query, token, "CheckFileInfo")
        info.raise_for_status()
        properties = info.json()
        session = Session(wopi_src, token, action, f"stand-in-{secrets.token_hex(8)}", properties["BaseFileName"])
        session.read_only = bool(properties.get("ReadOnly")) or not properties.get("UserCanWrite")
        if action in ("edit", "editnew") and not session.read_only:
            lock = {"X-WOPI-Override": "LOCK", "X-WOPI-Lock": session.lock_id}
            self._signed("POST", wopi_src + query, token, "Lock", headers=lock).raise_for_status()
            session.locked = True
        contents = self._signed("GET", f"{wopi_src}/contents{query}", token, "GetFile")
        contents.raise_for_status()
        session.contents = contents.content
        return session

    def save_and_unlock(self, session: Session, data: bytes) -> None:
        """Lock (when an earlier save released the lock), PutFile, Unlock; SaveRefused if the host refuses one."""
        query = f"?access_token={session.token}"

        def call(operation: str, override: str, url: str, **kwargs: Any) -> None:
            headers = {"X-WOPI-Override": override, "X-WOPI-Lock": session.lock_id}
            response = self._signed("POST", url + query, session.token, operation, headers=headers, **kwargs)
            if response.is_error:
                raise SaveRefused(operation, response.status_code)

        if not session.locked:
            call("Lock", "LOCK", session.wopi_src)
            session.locked = True
        call("PutFile", "PUT", f"{session.wopi_src}/contents", content=data)
        session.contents = data
        call("Unlock", "UNLOCK", session.wopi_src)
        session.locked = False

    def add_comment(self, session: Session, activity_id: str, text: str, mentioned: str) -> list[dict[str, Any]]:
        """AddActivities, as Office for the web reports a comment that mentions someone; the ActivityResponses."""
        activity = {
            "Type": "comment",
            "Id": activity_id,
            "Timestamp": "2026-12-04T09:30:00.0000000Z",
            "Data": {"ContentId": f"comment-{activity_id}", "ContentAction": "created", "CommentText": text},
            "People": [{"Name": mentioned, "Id": mentioned.lower(), "Mentioned": True}],
        }
        response = self._signed(
            "POST",
            f"{session.wopi_src}?access_token={session.token}",
            session.token,
            "AddActivities",
            headers={"X-WOPI-Override": "ADD_ACTIVITIES", "Content-Type": "application/json"},
            content=json.dumps({"Activities": [activity]}).encode(),
        )
        response.raise_for_status()
        return list(response.json()["ActivityResponses"])

    # ---- the frame page ----

    def frame_page(self, session_id: str, session: Session, status: str) -> bytes:
        text = session.contents.decode("utf-8", errors="replace")
        return FRAME_PAGE.substitute(
            name=html.escape(session.name),
            action=html.escape(session.action),
            mode="read-only" if session.read_only else "editing",
            disabled=" disabled" if session.read_only else "",
            status=html.escape(status),
            contents=html.escape(text),
            session=html.escape(session_id),
            host_origin=json.dumps(self.host_origin).replace("<", "\\u003c"),
        ).encode()


def _handler(office: StandInOffice) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _form(self) -> dict[str, str]:
            length = int(self.headers.get("Content-Length") or 0)
            pairs = parse_qs(self.rfile.read(length).decode("utf-8"), keep_blank_values=True)
            return {key: values[0] for key, values in pairs.items()}

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path == "/hosting/discovery":
                self._send(200, office.discovery_xml(), "text/xml; charset=utf-8")
            elif path.startswith("/favicon/"):
                self._send(200, FAVICON, "image/svg+xml")
            else:
                self._send(404, b"not found", "text/plain")

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            form = self._form()
            if parts.path.startswith("/frame/"):
                action = parts.path.removeprefix("/frame/")
                query = parse_qs(parts.query, keep_blank_values=True)
                office.events.append(
                    Event("form", {"action": action, "query": parts.query, "params": query, "form": form})
                )
                try:
                    session = office.open_document(action, query["wopisrc"][0], form["access_token"])
                except (httpx.HTTPError, KeyError) as error:
                    self._send(502, f"the stand-in could not open the document: {error!r}".encode(), "text/plain")
                    return
                session_id = secrets.token_hex(8)
                office.sessions[session_id] = session
                self._send(200, office.frame_page(session_id, session, "Opened"), "text/html; charset=utf-8")
            elif parts.path == "/save":
                session = office.sessions[form["session"]]
                try:
                    office.save_and_unlock(session, form["contents"].encode())
                except httpx.HTTPError as error:
                    self._send(502, f"the stand-in could not save: {error!r}".encode(), "text/plain")
                    return
                except SaveRefused as refused:
                    status = f"Refused: {refused}"
                    self._send(200, office.frame_page(form["session"], session, status), "text/html; charset=utf-8")
                    return
                self._send(200, office.frame_page(form["session"], session, "Saved"), "text/html; charset=utf-8")
            else:
                self._send(404, b"not found", "text/plain")

    return Handler


FAVICON = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" '
    b'fill="#7c3aed"/></svg>'
)

FRAME_PAGE = Template("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Stand-in office</title>
<style>
body { margin: 0; font: 14px/1.5 system-ui, sans-serif; background: #f3f0fa; color: #231942; }
header { display: flex; align-items: center; gap: 12px; padding: 10px 18px; background: #5b2ab8; color: #fff; }
header strong { font-size: 15px; }
.tag { padding: 1px 8px; border-radius: 999px; background: rgba(255,255,255,.18); font-size: 12px; }
main { max-width: 820px; margin: 24px auto; padding: 0 18px; }
.sheet { background: #fff; border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.12); padding: 24px; }
textarea { width: 100%; min-height: 160px; box-sizing: border-box; font: 15px/1.6 Georgia, serif;
  border: 1px solid #d8d0ea; border-radius: 6px; padding: 12px; }
.bar { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 14px; }
button { height: 32px; padding: 0 12px; border: 1px solid #c9bde6; border-radius: 6px; background: #fff;
  cursor: pointer; }
button.primary { background: #5b2ab8; border-color: #5b2ab8; color: #fff; }
button:disabled { opacity: .45; cursor: not-allowed; }
.status { color: #6b5a8e; font-size: 13px; }
#new-name { height: 30px; width: 260px; padding: 0 10px; border: 1px solid #c9bde6; border-radius: 6px; }
</style></head>
<body>
<header><strong>Stand-in office</strong><span class="tag" id="action">$action</span>
<span class="tag" id="mode">$mode</span>
<span id="doc-name">$name</span><span class="tag" id="status">$status</span>
<span class="tag" id="handshake">waiting for host</span></header>
<main><div class="sheet">
<form method="post" action="/save" id="save-form">
<input type="hidden" name="session" value="$session">
<textarea name="contents" id="contents" aria-label="Document text"$disabled>$contents</textarea>
<div class="bar">
<button class="primary" type="submit" id="save"$disabled>Save</button>
<button type="button" data-message="UI_Close" id="close">Close</button>
<button type="button" data-message="UI_Sharing" id="share">Share</button>
<button type="button" data-message="UI_FileVersions" id="versions">Versions</button>
<button type="button" data-message="Edit_Notification" id="edited">Edit notification</button>
<button type="button" data-message="UI_Edit" id="switch-to-edit">Edit in browser</button>
</div>
<div class="bar">
<input id="new-name" value="Renamed by the editor.docx" aria-label="New name">
<button type="button" id="rename">Rename</button>
</div>
</div></form>
<p class="status">Messages from the host: <span id="received"></span></p>
</div></main>
<script>
var HOST_ORIGIN = $host_origin;
var received = [];
function post(id, values) {
  values = values || {};
  values["ui-language"] = "1033";
  values.wdUserSession = "stand-in-session";
  parent.postMessage(JSON.stringify({MessageId: id, SendTime: Date.now(), Values: values}), HOST_ORIGIN);
}
window.addEventListener("message", function (event) {
  if (event.origin !== HOST_ORIGIN) { return; }
  var message = JSON.parse(event.data);
  received.push(message.MessageId);
  document.getElementById("received").textContent = received.join(",");
  if (message.MessageId === "Host_PostmessageReady") {
    document.getElementById("handshake").textContent = "host ready";
    post("App_LoadingStatus", {DocumentLoadedTime: Date.now()});
  }
});
document.querySelectorAll("button[data-message]").forEach(function (button) {
  button.addEventListener("click", function () { post(button.dataset.message); });
});
document.getElementById("rename").addEventListener("click", function () {
  post("File_Rename", {NewName: document.getElementById("new-name").value});
});
</script>
</body></html>
""")
