"""`wopi-storage` maps options and WOPI_STORAGE_* variables one-to-one onto AdapterSettings (no server starts)."""

from pathlib import Path

import pytest

from storage_adapter import cli
from storage_adapter.settings import AdapterSettings

SECRET = "s3cret-s3cret-s3cret"


def run_main(monkeypatch: pytest.MonkeyPatch, argv: list[str], environ: dict[str, str]) -> AdapterSettings:
    seen: list[AdapterSettings] = []
    monkeypatch.setattr(cli, "run", seen.append)
    cli.main(argv, environ)
    assert len(seen) == 1
    return seen[0]


def test_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = run_main(
        monkeypatch,
        ["--backend", "memory", "--root", str(tmp_path), "--listen", "127.0.0.1:6000", "--max-file-size", "10"],
        {"WOPI_STORAGE_SECRET": SECRET},
    )
    assert settings == AdapterSettings(
        backend="memory", root=tmp_path, listen="127.0.0.1:6000", secret=SECRET, max_file_size=10
    )


def test_environment_and_option_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    environ = {
        "WOPI_STORAGE_BACKEND": "memory",
        "WOPI_STORAGE_ROOT": str(tmp_path),
        "WOPI_STORAGE_LISTEN": "127.0.0.1:7000",
        "WOPI_STORAGE_SECRET": SECRET,
        "WOPI_STORAGE_MAX_VERSIONS_KEPT": "3",
    }
    settings = run_main(monkeypatch, ["--listen", "127.0.0.1:7001"], environ)
    assert settings.backend == "memory"
    assert settings.root == tmp_path
    assert settings.listen == "127.0.0.1:7001"
    assert settings.max_versions_kept == 3


def test_secret_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    assert run_main(monkeypatch, ["--secret-file", str(secret_file)], {}).secret == SECRET


def test_refuses_to_start_without_secret(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_main(monkeypatch, [], {})
    assert exit_info.value.code == 2
    assert "no shared secret" in capsys.readouterr().err


def test_unauthenticated_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = run_main(monkeypatch, ["--allow-unauthenticated"], {})
    assert settings.secret is None and settings.allow_unauthenticated
    settings = run_main(monkeypatch, [], {"WOPI_STORAGE_ALLOW_UNAUTHENTICATED": "true"})
    assert settings.allow_unauthenticated


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        (["--max-file-size", "-1"], {"WOPI_STORAGE_SECRET": SECRET}, "negative"),
        ([], {"WOPI_STORAGE_SECRET": "short"}, "at least 16"),
        ([], {"WOPI_STORAGE_SECRET": SECRET, "WOPI_STORAGE_BACKEND": "nosuch"}, "choose one of"),
        ([], {"WOPI_STORAGE_SECRET": SECRET, "WOPI_STORAGE_MAX_FILE_SIZE": "ten"}, "max_file_size"),
        (["--tls-cert", "/x.pem"], {"WOPI_STORAGE_SECRET": SECRET}, "both a certificate and a key"),
    ],
)
def test_bad_settings_are_clear_errors(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    environ: dict[str, str],
    message: str,
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_main(monkeypatch, argv, environ)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_limits_per_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    """The limits on slow callers and their connections, from options and variables, reach ServerLimits."""
    from storage_adapter.server import ServerLimits

    environ = {
        "WOPI_STORAGE_SECRET": SECRET,
        "WOPI_STORAGE_KEEPALIVE_TIME": "15",
        "WOPI_STORAGE_MAX_CONNECTION_AGE": "0",
    }
    argv = ["--stream-idle-timeout", "5", "--max-health-watchers", "7", "--max-concurrent-uploads", "9"]
    settings = run_main(monkeypatch, argv, environ)
    limits = ServerLimits.of(settings)
    assert (limits.stream_idle_timeout, limits.keepalive_time, limits.max_connection_age) == (5, 15, 0)
    assert (limits.max_health_watchers, limits.max_concurrent_uploads) == (7, 9)
    options = dict(limits.channel_options())
    assert options["grpc.keepalive_time_ms"] == 15000
    assert "grpc.max_connection_age_ms" not in options  # 0: no age limit
    with pytest.raises(ValueError, match="positive"):
        AdapterSettings(secret=SECRET, stream_idle_timeout=0)


def test_access_control_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Administrators: repeatable option, or a comma-separated variable; the option wins. Unowned access."""
    environ = {
        "WOPI_STORAGE_SECRET": SECRET,
        "WOPI_STORAGE_ADMIN_PRINCIPALS": "ops,backup",
        "WOPI_STORAGE_UNOWNED_ACCESS": "none",
    }
    from_environment = run_main(monkeypatch, [], environ)
    assert from_environment.admin_principals == ("ops", "backup")
    assert from_environment.unowned_access == "none"
    from_options = run_main(monkeypatch, ["--admin-principal", "root-tool", "--unowned-access", "viewer"], environ)
    assert (from_options.admin_principals, from_options.unowned_access) == (("root-tool",), "viewer")
    assert run_main(monkeypatch, [], {"WOPI_STORAGE_SECRET": SECRET}).unowned_access == "editor"


def test_access_control_is_on_unless_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Secure by default: enforced without any setting; off only when asked, by option or variable (the
    option wins). Items from before stay usable by every identified user: unowned access is `editor`."""
    environ = {"WOPI_STORAGE_SECRET": SECRET}
    by_default = run_main(monkeypatch, [], environ)
    assert (by_default.access_control, by_default.unowned_access) == (True, "editor")
    assert run_main(monkeypatch, ["--access-control", "false"], environ).access_control is False
    switched_off = {**environ, "WOPI_STORAGE_ACCESS_CONTROL": "false"}
    assert run_main(monkeypatch, [], switched_off).access_control is False
    assert run_main(monkeypatch, ["--access-control"], switched_off).access_control is True


def test_access_control_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="unowned_access"):
        AdapterSettings(secret=SECRET, unowned_access="everyone")
    with pytest.raises(ValueError, match="admin_principals"):
        AdapterSettings(secret=SECRET, admin_principals=("has space",))
