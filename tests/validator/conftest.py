"""One run of Microsoft's WOPI validator suite against the real services, shared by the tests of this package.

The front-end (uvicorn) and `wopi-storage` (filesystem) run as processes on loopback ports; the suite targets
an empty `validator/validator.wopitest` file with an edit token, as the validator CLI is pointed at a WopiSrc, a
token and its ttl. Requests are signed with the validator's dummy proof keys (its pull request #145), and the
front-end checks them against the matching public keys: it reads `validator/proofkeys/discovery.xml` from a
small discovery server on loopback, as it would read a real WOPI client's discovery.

Two groups test what a host says in another configuration, so they run alone against a target set up that way
(ALTERNATE_RUNS), not in the main run: PutRelativeFileUnsupported against a document shared on its own with an
editor, who may save it but not create files beside it (UserCanNotWriteRelative), and
RenameFileIfCreateChildFileIsNotSupported against a host with the container operations off
(WOPI_CONTAINERS=false).

The report is printed at the end of the pytest run and written to `test-output/validator-report.txt`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from pathlib import Path

import grpc
import pytest

from tests.frontend.discovery_server import DiscoveryServer
from tests.frontend.servers import WopiHost
from tests.validator import cases, report
from tests.validator.proofs import Signer, proofkeys_dir
from tests.validator.requests import Sender, Target
from tests.validator.runner import Runner, RunResult
from wopi_proto.storage_v1 import storage_pb2 as pb
from wopi_proto.storage_v1 import storage_pb2_grpc as pb_grpc

REPORT_KEY = pytest.StashKey[str]()
REPORT_FILE = cases.REPOSITORY / "test-output" / "validator-report.txt"
# In a folder of its own: the validator renames and deletes the target's folder's children, and asks that the
# folder itself be renamable (UserCanRenameContainerPrereq), which the root never is.
TARGET_FILE = "validator/validator.wopitest"
SHARED_FILE = "shared alone/validator.wopitest"  # test-user's, shared with SHARED_EDITOR as an editor
SHARED_EDITOR = "shared-editor"
# group -> the configuration it is run in instead of the main one
ALTERNATE_RUNS = {
    "PutRelativeFileUnsupported": "a document shared alone with an editor (UserCanNotWriteRelative)",
    "RenameFileIfCreateChildFileIsNotSupported": "container operations off (WOPI_CONTAINERS=false)",
}


@pytest.fixture(scope="session")
def validator_suite() -> cases.Suite:
    path = cases.cases_path()
    if not path.is_file():
        pytest.fail(
            f"the WOPI validator suite is not at {path}: set WOPI_VALIDATOR_CASES, or WOPI_SHARED_DIR to the "
            "shared folder holding wopi/validator/TestCases.xml",
            pytrace=False,
        )
    return cases.load_suite(path)


@pytest.fixture(scope="session")
def validator_run(
    validator_suite: cases.Suite, tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[RunResult]:
    discovery = DiscoveryServer((proofkeys_dir() / "discovery.xml").read_bytes())
    base = Path(tmp_path_factory.mktemp("validator"))
    schemas = cases.schemas_dir(validator_suite.path)
    signer = Signer.load()
    sender = Sender()

    def run(target: Target, groups: Collection[str] | None) -> RunResult:
        return Runner(validator_suite, target, sender, schemas, signer=signer).run(groups)

    main_groups = [group.name for group in validator_suite.groups if group.name not in ALTERNATE_RUNS]
    try:
        with discovery, WopiHost(base / "main", WOPI_DISCOVERY_URL=discovery.url) as host:
            main = run(_target(host.token(TARGET_FILE, create=True, permission="edit")), main_groups)
            shared = _share_alone(host, SHARED_FILE, SHARED_EDITOR)
            alternates = [run(shared, ["PutRelativeFileUnsupported"])]
            with WopiHost(base / "flat", WOPI_DISCOVERY_URL=discovery.url, WOPI_CONTAINERS="false") as flat:
                target = _target(flat.token(TARGET_FILE, create=True, permission="edit"))
                alternates.append(run(target, ["RenameFileIfCreateChildFileIsNotSupported"]))
    finally:
        sender.close()
    merged = _merged(validator_suite, main, alternates)
    text = report.render(merged, report.load_known_failures(), validator_suite.path, ALTERNATE_RUNS)
    REPORT_FILE.parent.mkdir(parents=True, exist_ok=True)
    REPORT_FILE.write_text(text, encoding="utf-8")
    pytestconfig.stash[REPORT_KEY] = text
    yield merged


def _target(session: dict[str, object]) -> Target:
    return Target(str(session["wopi_src"]), str(session["access_token"]), int(str(session["access_token_ttl"])))


def _share_alone(host: WopiHost, path: str, editor: str) -> Target:
    """`path` made by test-user and shared with `editor` as an editor, on its own: `editor` may read, write, lock,
    rename and delete it, and may not even see its folder; the target is an edit token minted for `editor`."""
    file_id = str(host.token(path, create=True, permission="edit")["wopi_src"]).rsplit("/", 1)[1]
    request = pb.GrantAccessRequest(file_id=file_id, grantee=pb.Grantee(user_id=editor), role=pb.ROLE_EDITOR)
    metadata = (("authorization", f"Bearer {host.storage.secret}"), ("x-wopi-principal-id", "test-user"))
    with grpc.insecure_channel(host.storage.target) as channel:
        pb_grpc.StorageServiceStub(channel).GrantAccess(request, metadata=metadata, timeout=30)
    return _target(host.token(file_id, create=False, permission="edit", user=editor))


def _merged(suite: cases.Suite, main: RunResult, alternates: list[RunResult]) -> RunResult:
    """One result in the suite's group order: each group's cases from the run it belongs to."""
    by_group = main.by_group()
    for alternate in alternates:
        by_group.update(alternate.by_group())
    results = [result for group in suite.groups for result in by_group.get(group.name, [])]
    return RunResult(main.target, results, main.seconds + sum(run.seconds for run in alternates))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    text = config.stash.get(REPORT_KEY, None)
    if text is not None:
        terminalreporter.write_sep("=", "WOPI validator")
        terminalreporter.write(text)
        terminalreporter.write_line(f"(written to {REPORT_FILE})")
