"""Where `serve` listens and what the demo and emails call the site, from one setting."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from clinvault.config import Settings
from clinvault.logs import wants_json


def test_the_public_url_defaults_to_the_serve_address(tmp_path: Path) -> None:
    assert Settings(home=tmp_path).public_url == "http://127.0.0.1:8000"
    settings = Settings(home=tmp_path, port=9137)
    assert settings.serve_url == "http://127.0.0.1:9137"
    assert settings.public_url == "http://127.0.0.1:9137"


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("0.0.0.0", "http://127.0.0.1:8080"),
        ("::", "http://[::1]:8080"),
        ("localhost", "http://localhost:8080"),
        ("fd00::5", "http://[fd00::5]:8080"),
    ],
)
def test_a_wildcard_host_is_opened_on_this_machine(tmp_path: Path, host: str, url: str) -> None:
    assert Settings(home=tmp_path, host=host, port=8080).serve_url == url


def test_an_explicit_public_url_is_kept(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, port=9137, public_url="https://clinic.example.org")
    assert settings.public_url == "https://clinic.example.org"
    assert settings.serve_url == "http://127.0.0.1:9137"


def test_the_port_is_a_tcp_port(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="port"):
        Settings(home=tmp_path, port=70000)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_logs_are_json_unless_stderr_is_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stderr", _Terminal())
    assert wants_json(None) is False
    assert wants_json(True) is True
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert wants_json(None) is True
    assert wants_json(False) is False


def test_serve_gives_workers_time_to_import_on_a_busy_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from clinvault.cli.app import app

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *_args, **kwargs: calls.append(kwargs))
    # Not what is tested here, and it would set logging up on the runner's own stderr.
    monkeypatch.setattr("clinvault.cli.server._check_configuration", lambda _settings: None)
    monkeypatch.setenv("CLINVAULT_HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["serve", "--workers", "2", "--no-migrate"])
    assert result.exit_code == 0, result.output
    (kwargs,) = calls
    assert kwargs["workers"] == 2
    # uvicorn's default of 5 s kills workers still importing on a loaded machine.
    assert int(str(kwargs["timeout_worker_healthcheck"])) >= 60
