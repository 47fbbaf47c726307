import httpx

from tests.frontend.servers import WopiHost


def test_check_file_info_over_http(wopi_host: WopiHost) -> None:
    session = wopi_host.token("smoke.wopitest")
    response = httpx.get(session["wopi_src"], params={"access_token": session["access_token"]})
    assert response.status_code == 200
    assert response.json()["BaseFileName"] == "smoke.wopitest"
