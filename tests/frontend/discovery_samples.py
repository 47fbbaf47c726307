"""Discovery documents shaped like the three WOPI clients' (trimmed), and proof keys made for the tests.

* Office for the web: several net-zones, apps named Word/Excel/..., urlsrc with `<name=PLACEHOLDER&>` templates
  on *.officeapps.live.com, a proof-key with modulus/exponent and CSP blobs.
* Collabora Online (`/hosting/discovery`): one net-zone named after its scheme, apps named after MIME types
  whose actions still carry `ext`, urlsrc `.../browser/<hash>/cool.html?` (no placeholders), a Capabilities app.
* ONLYOFFICE Docs: net-zone external-http, Word/Excel/PowerPoint apps at `/hosting/wopi/<type>/<mode>?` with
  placeholders and a trailing "&", MIME-named apps with ext="" for Collabora connectors, a Capabilities app.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from cryptography.hazmat.primitives.asymmetric import rsa

from tests.validator.proofs import Signer

OFFICE_TEMPLATE = (
    "<ui=UI_LLCC&><rs=DC_LLCC&><dchat=DISABLE_CHAT&><hid=HOST_SESSION_ID&><sc=SESSION_CONTEXT&>"
    "<wopisrc=WOPI_SOURCE&><IsLicensedUser=BUSINESS_USER&><actnavid=ACTIVITY_NAVIGATION_ID&>"
)
ONLYOFFICE_TEMPLATE = (
    "&<rs=DC_LLCC&><dchat=DISABLE_CHAT&><embed=EMBEDDED&><fs=FULLSCREEN&><hid=HOST_SESSION_ID&><rec=RECORDING&>"
    "<sc=SESSION_CONTEXT&><thm=THEME_ID&><ui=UI_LLCC&><wopisrc=WOPI_SOURCE&>&"
)


def _b64(number: int) -> str:
    return base64.b64encode(number.to_bytes((number.bit_length() + 7) // 8, "big")).decode("ascii")


@dataclass(frozen=True)
class KeyPair:
    """A WOPI client's current and old private keys, as a test plays the client."""

    current: rsa.RSAPrivateKey
    old: rsa.RSAPrivateKey

    @classmethod
    def generate(cls) -> KeyPair:
        return cls(*(rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2)))

    @property
    def signer(self) -> Signer:
        return Signer(self.current, self.old)

    def proof_key_element(self) -> str:
        current, old = self.current.public_key().public_numbers(), self.old.public_key().public_numbers()
        return (
            f'<proof-key modulus="{_b64(current.n)}" exponent="{_b64(current.e)}" '
            f'oldmodulus="{_b64(old.n)}" oldexponent="{_b64(old.e)}"/>'
        )


def _action(name: str, ext: str, urlsrc: str, extra: str = "") -> str:
    return f"<action name={quoteattr(name)} ext={quoteattr(ext)} urlsrc={quoteattr(urlsrc)}{extra}/>"


def office(keys: KeyPair | None = None, origin: str = "https://word-edit.officeapps.live.com") -> bytes:
    zones = []
    for zone in ("internal-http", "external-https"):
        host = origin if zone == "external-https" else "http://internal.example.test"
        view = f"{host}/wv/wordviewerframe.aspx?{OFFICE_TEMPLATE}"
        edit = f"{host}/we/wordeditorframe.aspx?{OFFICE_TEMPLATE}"
        zones.append(
            f'<net-zone name="{zone}"><app name="Word" favIconUrl="{host}/wv/resources/1033/FavIcon_Word.ico" '
            'checkLicense="true">'
            + _action("view", "docx", view, ' default="true"')
            + _action("edit", "docx", edit, ' requires="locks,update"')
            + _action("editnew", "docx", edit, ' requires="locks,update"')
            + "</app></net-zone>"
        )
    proof = keys.proof_key_element() if keys else ""
    return f'<?xml version="1.0" encoding="utf-8"?><wopi-discovery>{"".join(zones)}{proof}</wopi-discovery>'.encode()


def collabora(keys: KeyPair | None = None, origin: str = "http://localhost:9980") -> bytes:
    page = f"{origin}/browser/a1b2c3/cool.html?"
    apps = [
        ("application/vnd.oasis.opendocument.text", "edit", "odt"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "edit", "docx"),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "edit", "xlsx"),
        ("application/pdf", "view", "pdf"),
        ("text/plain", "edit", "txt"),
    ]
    body = "".join(f'<app name="{mime}">{_action(name, ext, page)}</app>' for mime, name, ext in apps)
    body += f'<app name="Capabilities">{_action("getinfo", "", f"{origin}/hosting/capabilities")}</app>'
    proof = keys.proof_key_element() if keys else ""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><wopi-discovery><net-zone name="external-http">{body}</net-zone>'
        f"{proof}</wopi-discovery>"
    ).encode()


def onlyoffice(keys: KeyPair | None = None, origin: str = "http://docs.example.test") -> bytes:
    base = f"{origin}/hosting/wopi"
    word = (
        '<app name="Word" favIconUrl="'
        + origin
        + '/web-apps/apps/documenteditor/main/resources/img/favicon.ico">'
        + _action("view", "docx", f"{base}/word/view?{ONLYOFFICE_TEMPLATE}")
        + _action("embedview", "docx", f"{base}/word/view?embed=1{ONLYOFFICE_TEMPLATE}")
        + _action("edit", "docx", f"{base}/word/edit?{ONLYOFFICE_TEMPLATE}", ' default="true" requires="locks,update"')
        + "</app>"
    )
    mime = (
        '<app name="application/vnd.openxmlformats-officedocument.wordprocessingml.document">'
        + _action("edit", "", f"{base}/word/edit?{ONLYOFFICE_TEMPLATE}", ' default="true" requires="locks,update"')
        + "</app>"
    )
    capabilities = f'<app name="Capabilities">{_action("getinfo", "", f"{origin}/hosting/capabilities")}</app>'
    proof = keys.proof_key_element() if keys else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?><wopi-discovery><net-zone name="external-http">'
        f"{word}{mime}{capabilities}</net-zone>{proof}</wopi-discovery>"
    ).encode()
