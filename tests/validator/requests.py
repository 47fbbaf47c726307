"""Building and sending each request of the suite as wopi-validator-core does (WopiRequest, RequestBase and
the request classes in src/WopiValidator.Core/Requests).

* A request built from the WopiSrc goes to `WopiSrc + path + "?access_token=" + UrlKeyValueEncode(token) +
  "&access_token_ttl=" + ttl`. A request with an `OverrideUrl` goes to that URL as it is (`$State:Name` is
  looked up in the saved state) and uses the access_token found in it.
* Every WOPI request carries `Authorization: Bearer <token>`; the `X-WOPI-Override` value when it has one;
  no User-Agent (the CLI passes none outside the OfficeNativeClient category), no Accept headers.
* Redirects are not followed (AllowAutoRedirect=false). A POST without a body sends Content-Length: 0.
* Names are UTF-7: `UrlHelper.GetUTF7EncodedUnescapedDataString` for the PutRelativeFile/CreateChild*
  targets, raw `Encoding.UTF7` for X-WOPI-RequestedName.
* Proof keys: given a `Signer` (the dummy keys of pull request #145), every request is signed and the ProofKey
  mutators apply (proofs.py); without one, as the released CLI, no proof headers are sent.
"""

from __future__ import annotations

import time
import urllib.parse
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

from tests.validator import dotnet
from tests.validator.cases import RequestSpec, Resource
from tests.validator.proofs import Signer

STATE_TOKEN = "$State:"
# WopiRequest: a Delete request without an OverrideUrl has no URL at all (never the .wopitest file itself)
_NO_DEFAULT_URL = frozenset({"DeleteFile", "DeleteContainer"})
_CHUNKED = frozenset({"GetChunkedFile", "PutChunkedFile", "GetSequenceNumber"})


class ValidatorCrash(Exception):
    """An exception the C# validator does not catch while building or sending a request (a missing state
    key, a null URL, ...). In a main request it aborts the real validator's whole run; the interpreter
    records it as the test case's failure. Cleanup requests swallow it, as the C# does."""


@dataclass(frozen=True)
class Target:
    """What the validator CLI is given: -w WopiSrc, -t token, -l ttl."""

    wopi_src: str
    access_token: str
    access_token_ttl: int


class Headers(Mapping[str, str]):
    """Response headers, case-insensitive; a repeated header is joined with "," (WebHeaderCollection)."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._values: dict[str, tuple[str, str]] = {}
        for name, value in items:
            key = name.lower()
            if key in self._values:
                self._values[key] = (self._values[key][0], self._values[key][1] + "," + value)
            else:
                self._values[key] = (name, value)

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()][1]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return (name for name, _ in self._values.values())

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values


@dataclass
class Response:
    """IResponseData: status, headers, the body bytes and, for text requests, the body read as text."""

    status: int
    headers: Headers
    body: bytes
    is_text: bool

    @property
    def text(self) -> str | None:
        return dotnet.read_text(self.body) if self.is_text else None

    @staticmethod
    def from_exception(message: str, details: str) -> Response:
        """ExceptionHelper.WrapExceptionInResponseData: status 306 (Unused) with X-WOPI-ValidatorError."""
        return Response(306, Headers([("X-WOPI-ValidatorError", message)]), details.encode(), True)


@dataclass
class Prepared:
    name: str
    method: str
    url: str | None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    is_text: bool = True
    delay: float | None = None  # the Delay pseudo-request


@dataclass(frozen=True)
class Kind:
    method: str = "POST"
    path: str | None = None  # PathOverride
    override: str | None = None  # X-WOPI-Override
    is_text: bool = True


KINDS: dict[str, Kind] = {
    "CheckFileInfo": Kind("GET"),
    "GetFile": Kind("GET", "/contents", is_text=False),
    "PutFile": Kind("POST", "/contents", "PUT"),
    "PutRelativeFile": Kind("POST", None, "PUT_RELATIVE"),
    "Lock": Kind("POST", None, "LOCK"),
    "Unlock": Kind("POST", None, "UNLOCK"),
    "RefreshLock": Kind("POST", None, "REFRESH_LOCK"),
    "UnlockAndRelock": Kind("POST", None, "LOCK"),
    "GetLock": Kind("POST", None, "GET_LOCK"),
    "RenameFile": Kind("POST", None, "RENAME_FILE"),
    "DeleteFile": Kind("POST", None, "DELETE"),
    "PutUserInfo": Kind("POST", None, "PUT_USER_INFO"),
    "GetShareUrl": Kind("POST", None, "GET_SHARE_URL"),
    "AddActivities": Kind("POST", None, "ADD_ACTIVITIES"),
    "EnumerateAncestors": Kind("GET", "/ancestry"),
    "EnumerateChildren": Kind("GET", "/children"),
    "CheckContainerInfo": Kind("GET"),
    "CheckEcosystem": Kind("GET"),  # its EcosystemUrl attribute is not read by the C#: it goes to the WopiSrc
    "GetEcosystem": Kind("GET", "/ecosystem_pointer"),
    "GetRootContainer": Kind("GET", "/root_container_pointer"),
    "CreateChildContainer": Kind("POST", None, "CREATE_CHILD_CONTAINER"),
    "CreateChildFile": Kind("POST", None, "CREATE_CHILD_FILE"),
    "DeleteContainer": Kind("POST", None, "DELETE_CONTAINER"),
    "RenameContainer": Kind("POST", None, "RENAME_CONTAINER"),
    "GetCoauthLock": Kind("POST", None, "GET_COAUTH_LOCK"),
    "GetCoauthTable": Kind("POST", None, "GET_COAUTH_TABLE"),
    "RefreshCoauthLock": Kind("POST", None, "REFRESH_COAUTH_LOCK"),
    "UnlockCoauthLock": Kind("POST", None, "UNLOCK_COAUTH_LOCK"),
    "GetFromFileUrl": Kind("GET"),
    "Delay": Kind("GET"),
}


def endpoint_override(spec: RequestSpec, state: Mapping[str, str | None], path: str | None) -> str | None:
    """RequestBase.GetEndpointAddressOverride."""
    override = spec.get("OverrideUrl")
    if not override:
        return None
    url: str | None = override
    if override.startswith(STATE_TOKEN) and override[len(STATE_TOKEN) :]:
        key = override[len(STATE_TOKEN) :]
        if key not in state:
            raise ValidatorCrash(
                "InvalidOperationException: OverrideUrl specified in definition but not found in state "
                f"dictionary ({key}).  Did it depend on a request that failed?"
            )
        url = state[key]
    if not url:
        return None
    if not path:
        return url
    parts = urllib.parse.urlsplit(url)  # UriBuilder: Path += PathOverride, the query kept
    return urllib.parse.urlunsplit(parts._replace(path=parts.path + path))


def build_wopi_uri(url: str, token: str, ttl: int, path: str | None) -> str:
    """WopiRequest.BuildWopiUri (a WopiSrc that already has a query gets the path after it, as in the C#)."""
    built = url + (path or "")
    if "?" not in url:
        built += "?"
    elif not url.endswith("&"):
        built += "&"
    return f"{built}access_token={dotnet.url_key_value_encode(token)}&access_token_ttl={ttl}"


def _absolute(url: str) -> str:
    if not dotnet.is_absolute_uri(url):
        raise ValidatorCrash(f"UriFormatException: Invalid URI: {url!r}")
    return url


def _lock_headers(spec: RequestSpec) -> list[tuple[str, str | None]]:
    kind = spec.kind
    if kind == "Lock":
        headers: list[tuple[str, str | None]] = [("X-WOPI-Lock", spec.get("Lock"))]
        visible = spec.get("LockUserVisible")
        if visible is not None:
            headers.append(("X-WOPI-LockUserVisible", "True" if visible.strip() in ("true", "1") else "False"))
        return headers
    if kind in ("Unlock", "RefreshLock"):
        return [("X-WOPI-Lock", spec.get("Lock"))]
    if kind == "UnlockAndRelock":
        return [("X-WOPI-Lock", spec.get("NewLock")), ("X-WOPI-OldLock", spec.get("OldLock"))]
    if kind == "GetFile":  # GetFileWopiRequest reads NewLock, so <GetFile Lock="..."> sends no lock
        return [("X-WOPI-Lock", spec.get("NewLock"))] if spec.get("NewLock") else []
    if kind == "PutFile":
        return [("X-WOPI-Lock", spec.get("Lock"))] if spec.get("Lock") else []
    return []


def _overwrite(spec: RequestSpec) -> str | None:
    value = spec.get("OverwriteRelative")
    return None if value is None else ("True" if value.strip() in ("true", "1") else "False")


def _target_headers(spec: RequestSpec, name: str | None) -> list[tuple[str, str | None]]:
    """PutRelativeFile / CreateChildFile / CreateChildContainer: the target headers by PutRelativeFileMode."""
    mode = (spec.get("PutRelativeFileMode") or "").lower()
    encoded = dotnet.utf7_header(name) if name is not None else None
    if mode == "suggested":
        return [("X-WOPI-SuggestedTarget", encoded)]
    if mode == "exactname":
        headers: list[tuple[str, str | None]] = [("X-WOPI-RelativeTarget", encoded)]
        overwrite = _overwrite(spec)
        if overwrite is not None and spec.kind != "CreateChildContainer":
            headers.append(("X-WOPI-OverwriteRelativeTarget", overwrite))
        return headers
    if mode == "conflicting":
        return [("X-WOPI-SuggestedTarget", encoded), ("X-WOPI-RelativeTarget", encoded)]
    raise ValidatorCrash(f"ArgumentOutOfRangeException: Unknown PutRelativeFileMode specified: {mode!r}")


def _headers(
    spec: RequestSpec, state: Mapping[str, str | None], resources: Mapping[str, Resource]
) -> list[tuple[str, str | None]]:
    """DefaultHeaders then GetCustomHeaders of the request class; a null value is sent empty."""
    kind = spec.kind
    if kind == "PutRelativeFile":
        return [
            ("X-WOPI-Size", str(len(_resource(resources, spec.get("ResourceId"))))),
            *_target_headers(spec, spec.get("Name")),
        ]
    if kind == "CreateChildFile":
        return _target_headers(spec, spec.get("Name"))
    if kind == "CreateChildContainer":
        return _target_headers(spec, spec.get("FolderName"))
    if kind in ("RenameFile", "RenameContainer"):
        name = spec.get("Name")
        if name is None:
            raise ValidatorCrash("ArgumentNullException: Encoding.UTF7.GetBytes(null): the request has no Name")
        headers: list[tuple[str, str | None]] = [("X-WOPI-RequestedName", dotnet.utf7_raw(name))]
        if kind == "RenameFile":  # always sent, empty when the attribute is absent
            headers += [("X-WOPI-Lock", spec.get("Lock")), ("X-WOPI-CoauthLockId", spec.get("CoauthLockId"))]
        return headers
    if kind == "GetShareUrl":
        return [("X-WOPI-UrlType", spec.get("UrlType"))]
    if kind == "EnumerateChildren":
        filters = spec.get("FileExtensionFilterList")
        return [("X-WOPI-FileExtensionFilterList", filters)] if filters else []
    if kind in ("GetCoauthLock", "RefreshCoauthLock", "UnlockCoauthLock"):
        return _coauth_headers(spec)
    if kind == "GetCoauthTable":
        version, key = spec.get("CoauthTableVersion"), spec.get("CoauthTableVersionStateKey")
        if key and key.strip() and version and version.strip():
            raise ValidatorCrash("ArgumentException: CoauthTableVersionStateKey and CoauthTableVersion both set")
        fallback = version if version and version.strip() else ""
        value = state[key] if key and key.strip() and key in state else fallback
        return [("X-WOPI-CoauthTableVersion", value if value and value.strip() else "")]
    return _lock_headers(spec)


def _coauth_headers(spec: RequestSpec) -> list[tuple[str, str | None]]:
    headers: list[tuple[str, str | None]] = []
    lock_type = spec.get("CoauthLockType")
    if spec.kind == "GetCoauthLock" and lock_type:
        canonical = {"coauth": "Coauth", "coauthexclusive": "CoauthExclusive", "none": "None"}
        headers.append(("X-WOPI-CoauthLockType", canonical.get(lock_type.lower(), lock_type)))
    if spec.kind != "UnlockCoauthLock" and spec.get("CoauthLockMetadata") is not None:
        headers.append(("X-WOPI-CoauthLockMetadata", spec.get("CoauthLockMetadata")))
    if spec.get("CoauthLockId") is not None:
        headers.append(("X-WOPI-CoauthLockId", spec.get("CoauthLockId")))
    timeout = spec.get("CoauthLockExpirationTimeout")
    if spec.kind != "UnlockCoauthLock" and timeout:
        headers.append(("X-WOPI-CoauthLockExpirationTimeout", str(int(timeout))))
    return headers


def _resource(resources: Mapping[str, Resource], resource_id: str | None) -> bytes:
    if not resource_id:
        raise ValidatorCrash("ArgumentException: ResourceId cannot be empty")
    if resource_id not in resources:
        raise ValidatorCrash(f"ArgumentException: Resource with resourceId '{resource_id}' doesn't exist.")
    return resources[resource_id].content


def _content(spec: RequestSpec, resources: Mapping[str, Resource]) -> bytes | None:
    kind = spec.kind
    if kind == "PutFile":
        return spec.body.encode("utf-8") if spec.body is not None else _resource(resources, spec.get("ResourceId"))
    if kind == "PutRelativeFile":
        return _resource(resources, spec.get("ResourceId"))
    if kind in ("PutUserInfo", "AddActivities"):
        if spec.body is None or not spec.body.strip():
            raise ValidatorCrash(f"ArgumentOutOfRangeException: No RequestBody specified for {kind} operation")
        return spec.body.encode("utf-8")
    return None


def prepare(
    spec: RequestSpec,
    target: Target,
    state: Mapping[str, str | None],
    resources: Mapping[str, Resource],
    signer: Signer | None = None,
) -> Prepared:
    """The request as the C# would send it: URL, headers in the C# order, body."""
    kind = KINDS.get(spec.kind)
    if kind is None or spec.kind in _CHUNKED:
        raise ValidatorCrash(
            f"{spec.kind}: this interpreter does not implement the request (incremental file transfer)"
        )
    if spec.kind == "PutRelativeFile" and not spec.get("Name"):
        raise ValidatorCrash(
            "ArgumentException: Requested name for a PutRelativeFile Wopi request cannot be null or empty"
        )
    if spec.kind == "Delay":
        return Prepared("Delay", "GET", None, delay=float(spec.get("DelayTimeInSeconds") or 0))
    if spec.kind == "GetFromFileUrl":  # a plain GET of the saved URL: no token, no headers (RequestBase)
        url = endpoint_override(spec, state, None)
        if url is None:
            raise ValidatorCrash("ArgumentNullException: GetFromFileUrl has no URL (new Uri(null))")
        return Prepared("GetFromFileUrl", "GET", _absolute(url))

    token: str | None = target.access_token
    url = endpoint_override(spec, state, kind.path)
    if url is None:
        url = (
            None
            if spec.kind in _NO_DEFAULT_URL
            else build_wopi_uri(target.wopi_src, target.access_token, target.access_token_ttl, kind.path)
        )
    else:
        url = _absolute(url)
        token = dotnet.get_query_parameter(url, "access_token")
    if url is None:
        raise ValidatorCrash(f"NullReferenceException: {spec.kind} without an OverrideUrl has no target URL")

    mutated = token
    for mutator in spec.mutators:
        if mutator.tag == "AccessToken":
            mutation = mutator.get("Mutation")
            mutated = mutation if mutation is not None else str(uuid.uuid4())
            break
    if mutated != token:
        url = dotnet.append_or_replace_query_parameter(url, "access_token", mutated)

    headers = _headers(spec, state, resources)
    if kind.override:
        headers.append(("X-WOPI-Override", kind.override))
    if signer is not None:  # signed over the URL as it goes on the wire (Uri.AbsoluteUri)
        proof = signer.request_headers(mutated or "", str(_wire_url(url)), spec.mutators)
        headers.extend(proof.items())
    headers.append(("Authorization", "Bearer " + (mutated or "")))
    return Prepared(
        spec.kind,
        kind.method,
        url,
        [(name, value or "") for name, value in headers],
        _content(spec, resources),
        kind.is_text,
    )


class Sender:
    """One HTTP client for the run: no redirects, no default headers, a 30-second timeout."""

    def __init__(self, timeout: float = 30) -> None:
        self.client = httpx.Client(follow_redirects=False, timeout=timeout)
        self.client.headers.clear()  # no User-Agent, Accept or Accept-Encoding: HttpWebRequest sends none

    def send(self, request: Prepared, sleep: Callable[[float], None] = time.sleep) -> Response:
        if request.delay is not None:
            sleep(request.delay)
            return Response(200, Headers([]), b"", True)
        assert request.url is not None
        body = request.body
        if body is None and request.method == "POST":
            body = b""  # RequestBase: ContentLength = 0
        try:
            reply = self.client.request(request.method, _wire_url(request.url), headers=request.headers, content=body)
        except httpx.HTTPError as error:
            return Response.from_exception(f"(WebException){type(error).__name__}: {error}", repr(error))
        return Response(reply.status_code, Headers(list(reply.headers.multi_items())), reply.content, request.is_text)

    def close(self) -> None:
        self.client.close()


def _wire_url(url: str) -> httpx.URL:
    """The URL exactly as built: httpx must not re-encode the already-escaped query."""
    parts = urllib.parse.urlsplit(url)
    built = httpx.URL(urllib.parse.urlunsplit(parts._replace(query="", fragment="")))
    # .NET's Uri escapes spaces and non-ASCII characters; everything else in the query goes out as it is
    query = urllib.parse.quote(parts.query, safe="".join(chr(c) for c in range(0x21, 0x7F)))
    return built.copy_with(query=query.encode("ascii") if query else None)
