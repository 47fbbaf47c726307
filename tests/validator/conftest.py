"""One run of Microsoft's WOPI validator suite against the real services, shared by the tests of this package.

The front-end (uvicorn) and `wopi-storage` (filesystem) run as processes on loopback ports; the suite targets
an empty `validator.wopitest` file with an edit token, as the validator CLI is pointed at a WopiSrc, a token
and its ttl. Requests are signed with the validator's dummy proof keys (its pull request #145), and the
front-end checks them against the matching public keys: it reads `validator/proofkeys/discovery.xml` from a
small discovery server on loopback, as it would read a real WOPI client's discovery.

The report is printed at the end of the pytest run and written to `test-output/validator-report.txt`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.frontend.discovery_server import DiscoveryServer
from tests.frontend.servers import WopiHost
from tests.validator import cases, report
from tests.validator.proofs import Signer, proofkeys_dir
from tests.validator.requests import Sender, Target
from tests.validator.runner import Runner, RunResult

REPORT_KEY = pytest.StashKey[str]()
REPORT_FILE = cases.REPOSITORY / "test-output" / "validator-report.txt"
TARGET_FILE = "validator.wopitest"


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
    with discovery, WopiHost(base, WOPI_DISCOVERY_URL=discovery.url) as host:
        session = host.token(TARGET_FILE, create=True, permission="edit")
        target = Target(session["wopi_src"], session["access_token"], int(session["access_token_ttl"]))
        sender = Sender()
        try:
            schemas = cases.schemas_dir(validator_suite.path)
            run = Runner(validator_suite, target, sender, schemas, signer=Signer.load()).run()
        finally:
            sender.close()
    text = report.render(run, report.load_known_failures(), validator_suite.path)
    REPORT_FILE.parent.mkdir(parents=True, exist_ok=True)
    REPORT_FILE.write_text(text, encoding="utf-8")
    pytestconfig.stash[REPORT_KEY] = text
    yield run


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    text = config.stash.get(REPORT_KEY, None)
    if text is not None:
        terminalreporter.write_sep("=", "WOPI validator")
        terminalreporter.write(text)
        terminalreporter.write_line(f"(written to {REPORT_FILE})")
