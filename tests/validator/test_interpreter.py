"""The tricky parts of the interpreter, checked against what the C# validator produces."""

from __future__ import annotations

import time

import pytest

from tests.validator import dotnet, jtoken
from tests.validator.cases import RequestSpec, Resource, Spec, StateSpec
from tests.validator.proofs import Signer, proofkeys_dir
from tests.validator.properties import json_property
from tests.validator.requests import Headers, Response, Target, ValidatorCrash, prepare
from tests.validator.runner import state_value
from tests.validator.validators import JsonResponseContentValidator, ResponseHeaderValidator
from wopi_frontend.discovery import parse_discovery
from wopi_frontend.proof_keys import Verdict, is_fresh, verify

TARGET = Target("http://host:8080/wopi/files/abc", "tok/en+1=", 1700000000000)
RESOURCES = {
    "WordSimpleDocument": Resource(
        "WordSimpleDocument", "WordSimpleDocument.docx", "Resources\\WordSimpleDocument.docx"
    ),
    "ZeroByteFile": Resource("ZeroByteFile", "ZeroByteFile.wopitest", "Resources\\ZeroByteFile.wopitest"),
}


@pytest.mark.parametrize(
    ("name", "encoded"),
    [
        ("madeupname.wopitest", "madeupname.wopitest"),
        ("madeup_name.wopitestx", "madeup+AF8-name.wopitestx"),  # "_" is not directly encoded by Encoding.UTF7
        ("_.", "+AF8-."),  # .NET always closes a base64 run with "-" (Python's codec omits it before ".")
        ("a+b", "a+-b"),
        ("héllo", "h+AOk-llo"),
        ("😀", "+2D3eAA-"),  # a surrogate pair, encoded unit by unit
        ("a_", "a+AF8-"),
    ],
)
def test_utf7_encoding_of_names(name: str, encoded: str) -> None:
    assert dotnet.utf7_encode(name) == encoded
    assert dotnet.utf7_raw(name) == encoded  # X-WOPI-RequestedName
    assert encoded.encode("ascii").decode("utf-7") == name


def test_utf7_header_turns_spaces_into_plus() -> None:
    """GetUTF7EncodedUnescapedDataString goes through HttpUtility.UrlEncode, whose "+" for a space survives."""
    assert dotnet.utf7_header("my new_file.docx") == "my+new+AF8-file.docx"


@pytest.mark.parametrize(
    ("token", "encoded"),
    [
        ("AbcXYZ019", "AbcXYZ019"),
        ("a-b_c.d~e", "a%2Db%5Fc%2Ed%7Ee"),  # even RFC 3986 unreserved characters are escaped
        ("a/b+c=", "a%2Fb%2Bc%3D"),
        ("é😀", "%C3%A9%F0%9F%98%80"),
        ("", ""),
    ],
)
def test_aggressive_url_encoder(token: str, encoded: str) -> None:
    assert dotnet.url_key_value_encode(token) == encoded


def test_requests_built_from_the_wopisrc_carry_token_ttl_and_bearer() -> None:
    spec = RequestSpec("GetFile", {}, None)
    request = prepare(spec, TARGET, {}, RESOURCES)
    assert request.method == "GET"
    assert (
        request.url
        == "http://host:8080/wopi/files/abc/contents?access_token=tok%2Fen%2B1%3D&access_token_ttl=1700000000000"
    )
    assert request.headers == [("Authorization", "Bearer tok/en+1=")]
    assert not request.is_text


def test_state_substitution_in_override_urls() -> None:
    state = {"NewFileUrl": "http://host:8080/wopi/files/new?access_token=N%2Bw", "Gone": None}
    lock = prepare(RequestSpec("Lock", {"Lock": "L", "OverrideUrl": "$State:NewFileUrl"}, None), TARGET, state, {})
    assert lock.url == "http://host:8080/wopi/files/new?access_token=N%2Bw"  # as saved: no access_token_ttl
    assert lock.headers == [("X-WOPI-Lock", "L"), ("X-WOPI-Override", "LOCK"), ("Authorization", "Bearer N+w")]
    # a PathOverride is added to the saved URL's path, keeping its query
    put = prepare(
        RequestSpec("PutFile", {"ResourceId": "ZeroByteFile", "OverrideUrl": "$State:NewFileUrl"}, None),
        TARGET,
        state,
        RESOURCES,
    )
    assert put.url == "http://host:8080/wopi/files/new/contents?access_token=N%2Bw"
    assert put.body == b""
    # a key saved as null falls back to the WopiSrc; DeleteFile then has no URL at all; an unknown key throws
    assert prepare(
        RequestSpec("CheckFileInfo", {"OverrideUrl": "$State:Gone"}, None), TARGET, state, {}
    ).url.startswith(TARGET.wopi_src + "?access_token=")
    with pytest.raises(ValidatorCrash, match="NullReferenceException"):
        prepare(RequestSpec("DeleteFile", {"OverrideUrl": "$State:Gone"}, None), TARGET, state, {})
    with pytest.raises(ValidatorCrash, match="not found in state dictionary"):
        prepare(RequestSpec("DeleteFile", {"OverrideUrl": "$State:Missing"}, None), TARGET, state, {})


def test_invalid_token_mutation_replaces_query_and_bearer() -> None:
    spec = RequestSpec("CheckFileInfo", {}, None, mutators=(Spec("AccessToken", {"Mutation": "INVALID"}),))
    request = prepare(spec, TARGET, {}, {})
    assert request.url == "http://host:8080/wopi/files/abc?access_token=INVALID&access_token_ttl=1700000000000"
    assert request.headers[-1] == ("Authorization", "Bearer INVALID")


def test_put_relative_and_rename_headers() -> None:
    spec = RequestSpec(
        "PutRelativeFile",
        {
            "PutRelativeFileMode": "ExactName",
            "Name": "madeup_name.wopitestx",
            "ResourceId": "WordSimpleDocument",
            "OverwriteRelative": "true",
        },
        None,
    )
    request = prepare(spec, TARGET, {}, RESOURCES)
    assert request.headers[:3] == [
        ("X-WOPI-Size", "74"),
        ("X-WOPI-RelativeTarget", "madeup+AF8-name.wopitestx"),
        ("X-WOPI-OverwriteRelativeTarget", "True"),
    ]
    assert request.body == b"WordSimpleDocumentResources\\WordSimpleDocument.docxWordSimpleDocument.docx"
    rename = prepare(RequestSpec("RenameFile", {"Name": "madeup_renamed"}, None), TARGET, {}, {})
    assert rename.headers[:3] == [
        ("X-WOPI-RequestedName", "madeup+AF8-renamed"),
        ("X-WOPI-Lock", ""),  # always sent, empty without a lock
        ("X-WOPI-CoauthLockId", ""),
    ]


def test_saved_state_from_json_and_headers() -> None:
    body = b'{"Url": "http://h/x?access_token=t", "AncestorsWithRootFirst": [{"Url": "a"}, {"Url": "b"}], "N": 7}'
    response = Response(200, Headers([("X-WOPI-ItemVersion", "v2"), ("X-Empty", "")]), body, True)
    assert state_value(StateSpec("s", "Url", "JsonBody"), response) == "http://h/x?access_token=t"
    assert state_value(StateSpec("s", "AncestorsWithRootFirst[-1:].Url", "JsonBody"), response) == "b"
    assert state_value(StateSpec("s", "N", "JsonBody"), response) == "7"
    assert state_value(StateSpec("s", "Missing", "JsonBody"), response) is None
    assert state_value(StateSpec("s", "x-wopi-itemversion", "Header"), response) == "v2"
    assert state_value(StateSpec("s", "X-Empty", "Header"), response) is None
    assert state_value(StateSpec("s", "Url", "JsonBody"), Response(404, Headers([]), b"", True)) is None


def test_header_validator_uses_saved_state_and_is_required_by_default() -> None:
    response = Response(200, Headers([("X-WOPI-ItemVersion", "V1")]), b"", True)
    same = ResponseHeaderValidator("X-WOPI-ItemVersion", None, "Saved")
    assert same.validate(response, {}, {"Saved": "v1"}) == []  # OrdinalIgnoreCase
    differs = ResponseHeaderValidator("X-WOPI-ItemVersion", None, "Saved", should_match=False)
    assert differs.validate(response, {}, {"Saved": "v1"}) == ["'X-WOPI-ItemVersion' header value should not be : 'v1'"]
    missing = ResponseHeaderValidator("X-WOPI-Lock", "", None)
    assert missing.validate(response, {}, {}) == ["'X-WOPI-Lock' header is not present on the response"]


def test_json_properties_follow_newtonsoft_conversions() -> None:
    def check(xml_tag: str, attrs: dict[str, str], body: str) -> list[str]:
        validator = JsonResponseContentValidator([json_property(Spec(xml_tag, attrs))])
        return validator.validate(Response(200, Headers([]), body.encode(), True), {}, {})

    assert check("BooleanProperty", {"Name": "B", "ExpectedValue": "true"}, '{"B": "True"}') == []
    assert check("LongProperty", {"Name": "S", "IsRequired": "true"}, '{"S": 0}') == []
    assert check("StringProperty", {"Name": "V", "IsRequired": "true"}, '{"V": ""}') == [
        "Incorrect value for 'V' property. Required property missing"
    ]
    assert (
        check("StringProperty", {"Name": "N", "EndsWith": ".WOPITEST", "IgnoreCase": "true"}, '{"N": "a.wopitest"}')
        == []
    )
    assert check("StringRegexProperty", {"Name": "U", "ExpectedValue": "^x", "ShouldMatch": "false"}, '{"U": ""}') == [
        "Incorrect value for 'U' property. Value null doesn't match the expected regular expression '^x'"
    ]
    url = {"Name": "Url", "MustIncludeAccessToken": "true"}
    assert check("AbsoluteUrlProperty", url, '{"Url": "http://h/f?access_token=x"}') == []
    assert check("AbsoluteUrlProperty", url, '{"Url": "/relative"}') == [
        "Incorrect value for 'Url' property. Cannot parse /relative as absolute URL"
    ]
    assert check("ArrayProperty", {"Name": "T", "ContainsValue": "readonly"}, '{"T": ["ReadOnly"]}') == []
    assert jtoken.select_token({"a": [{"b": 1}, {"b": 2}]}, "a[-1:].b") == 2


# ---- proof keys (the validator's pull request #145) ----------------------------------------------------------


def _proof_verdict(request_headers: list[tuple[str, str]], token: str, url: str) -> Verdict:
    headers = dict(request_headers)
    discovery = parse_discovery((proofkeys_dir() / "discovery.xml").read_bytes())
    assert discovery.proof_key is not None
    return verify(
        discovery.proof_key,
        access_tokens=[token],
        url=url,
        timestamp=int(headers["X-WOPI-TimeStamp"]),
        proof=headers["X-WOPI-Proof"],
        proof_old=headers["X-WOPI-ProofOld"],
    )


def test_signed_requests_verify_with_the_matching_discovery() -> None:
    """The dummy private keys sign what the host's discovery keys verify: the unescaped token, the URL as sent,
    the time now; proof headers come after X-WOPI-Override and before Authorization, as in the C#."""
    request = prepare(RequestSpec("Lock", {"Lock": "L"}, None), TARGET, {}, {}, Signer.load())
    names = [name for name, _ in request.headers]
    assert names == ["X-WOPI-Lock", "X-WOPI-Override", "X-WOPI-Proof", "X-WOPI-ProofOld", "X-WOPI-TimeStamp",
                     "Authorization"]  # fmt: skip
    assert request.url is not None
    assert _proof_verdict(request.headers, TARGET.access_token, request.url) is Verdict.VALID
    timestamp = int(dict(request.headers)["X-WOPI-TimeStamp"])
    assert is_fresh(timestamp, time.time())


@pytest.mark.parametrize(
    ("attributes", "verdict", "fresh"),
    [
        ({}, Verdict.VALID, True),
        ({"MutateOld": "true"}, Verdict.VALID, True),
        ({"KeyRelation": "Ahead"}, Verdict.VALID_ROTATED, True),
        ({"KeyRelation": "Behind"}, Verdict.VALID_ROTATED, True),
        ({"MutateCurrent": "true"}, Verdict.INVALID, True),
        ({"MutateCurrent": "true", "MutateOld": "true"}, Verdict.INVALID, True),
        ({"Timestamp": "2015-08-17T00:00:00Z"}, Verdict.VALID, False),
    ],
)
def test_proof_key_mutators(attributes: dict[str, str], verdict: Verdict, fresh: bool) -> None:
    spec = RequestSpec("CheckFileInfo", {}, None, mutators=(Spec("ProofKey", attributes),))
    request = prepare(spec, TARGET, {}, {}, Signer.load())
    assert request.url is not None
    assert _proof_verdict(request.headers, TARGET.access_token, request.url) is verdict
    assert is_fresh(int(dict(request.headers)["X-WOPI-TimeStamp"]), time.time()) is fresh
