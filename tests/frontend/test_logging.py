"""The front-end's log never holds access tokens or file contents (the access log records the path only)."""

from __future__ import annotations

import time
from pathlib import Path

from tests.frontend.servers import WopiHost
from tests.frontend.wopi import WopiFile, http, open_file, raw_http, token_for

SECRET_CONTENT = b"SECRET-CONTENT-7f3a9c Quarterly numbers nobody may read in a log"
SECRET_USER_INFO = "SECRET-USERINFO-51be02"


def test_log_has_no_tokens_or_contents(wopi_host: WopiHost, file_name: str) -> None:
    """After a session of ordinary and failing requests, the log has neither the access tokens nor the bytes."""
    file = open_file(wopi_host, file_name)
    view_token = token_for(wopi_host, file, permission="view")
    secrets = {file.access_token, view_token}

    assert file.check_file_info().status_code == 200
    assert file.put_file(SECRET_CONTENT).status_code == 200
    assert file.get_file().content == SECRET_CONTENT
    assert file.lock("log-lock").status_code == 200
    assert file.put_file(SECRET_CONTENT + b" v2", lock="log-lock").status_code == 200
    assert file.put_file(SECRET_CONTENT + b" v3", lock="wrong").status_code == 409
    assert file.get_file({"X-WOPI-MaxExpectedSize": "1"}).status_code == 412
    assert file.put_user_info(SECRET_USER_INFO).status_code == 200
    relative = file.put_relative({"X-WOPI-SuggestedTarget": ".wopitestx"}, SECRET_CONTENT)
    assert relative.status_code == 200
    new_file = WopiFile.from_url(wopi_host, relative.json()["Url"])
    secrets.add(new_file.access_token)
    assert new_file.check_file_info().status_code == 200
    # failures: refused tokens (a view token used to write, a tampered one), a bad header, a 501, a broken body
    assert file.with_token(view_token).put_file(SECRET_CONTENT, lock="log-lock").status_code == 401
    tampered = file.access_token[:-3] + ("AAA" if not file.access_token.endswith("AAA") else "BBB")
    secrets.add(tampered)
    assert file.with_token(tampered).check_file_info().status_code == 401
    assert http.get(file.wopi_src, headers={"Authorization": f"Bearer {tampered}"}).status_code == 401
    assert file.get_file([("X-WOPI-MaxExpectedSize", b"\xb2")]).status_code == 400
    assert file.post("GET_RESTRICTED_LINK").status_code == 501
    path = f"/wopi/files/{file.file_id}/contents?access_token={file.access_token}"
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{wopi_host.port}\r\n"
    head += "X-WOPI-Override: PUT\r\nX-WOPI-Lock: log-lock\r\n"
    head += "Content-Length: 5000\r\n\r\n"  # more than is sent: the upload breaks off
    raw_http(wopi_host, head.encode() + SECRET_CONTENT, half_close=True)
    assert file.get_file().content == SECRET_CONTENT + b" v2"
    time.sleep(0.3)  # let the last log lines reach the file

    log = wopi_host.log_path.read_bytes()
    assert file.file_id.encode() in log  # the log is really there, and records requests
    for token in secrets:
        assert token.encode() not in log
        assert token[:40].encode() not in log  # not even a prefix
    assert b"SECRET-CONTENT" not in log
    assert SECRET_USER_INFO.encode() not in log
    assert b"access_token=" not in log


def test_log_lines_cannot_be_forged(wopi_host: WopiHost) -> None:
    """A path with encoded newlines or control characters is logged escaped, on one line: no forged entries."""
    forged = "2026-01-01 00:00:00,000 ERROR wopi_frontend: FORGED"
    for path in (f"/wopi/files/x%0A{forged}", f"/wopi/files/x%0D%0A{forged}/contents", "/wopi/files/a%00b%1B[31m"):
        assert http.get(wopi_host.url + path).status_code == 404
    # The front-end writes its log from another process: wait until the last of the three lines is there.
    deadline = time.monotonic() + 30
    while b"a%00b%1B" not in wopi_host.log_path.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = wopi_host.log_path.read_bytes().splitlines()
    assert [line for line in lines if line.startswith(b"2026-01-01")] == []
    assert [line for line in lines if b"\x00" in line or b"\x1b" in line] == []
    assert any(b"FORGED" in line and b"%0A" in line for line in lines)


def test_the_access_log_can_be_switched_off(tmp_path: Path) -> None:
    """WOPI_ACCESS_LOG=false: requests leave no line; warnings and errors of the front-end are still logged."""
    host = WopiHost(tmp_path, WOPI_ACCESS_LOG="false").start()
    try:
        file = open_file(host, "quiet.docx")
        assert file.check_file_info().status_code == 200
        assert http.get(host.url + "/wopi/files/no-such-route/x/y").status_code == 404
    finally:
        host.stop()  # the process has flushed and exited: its whole log is there
    log = host.log_path.read_bytes()
    assert b"Application startup complete" in log  # the log is there, and holds what is not the access log
    assert b"wopi_frontend.access" not in log and file.file_id.encode() not in log
