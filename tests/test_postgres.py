"""PostgreSQL through ``DATABASE_URL`` (psycopg 3), against a real server started for this module.

The server is Debian's ``postgresql`` package (CI installs it), run from its binaries in a
temporary folder on a free loopback port: no system service, nothing left behind. The app runs
as subprocesses of ``manage.py`` pointed at it by ``DATABASE_URL``, exactly as a deployment
would; the test reads what they wrote with psycopg, not through Django.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.fakes.ollama import FakeOllama
from tests.fakes.scenarios import ConsultScenario, consult_config_yaml

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PG_USER = "mmos"
PG_DATABASE = "mmos"
COMMAND_TIMEOUT_S = 180


@dataclass(frozen=True)
class PostgresServer:
    port: int
    password: str

    @property
    def url(self) -> str:
        return f"postgres://{PG_USER}:{self.password}@127.0.0.1:{self.port}/{PG_DATABASE}"

    def connect(self, dbname: str = PG_DATABASE, **options: Any) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=PG_USER,
            password=self.password,
            dbname=dbname,
            **options,
        )


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.fail(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: install "
            "Debian's `postgresql` package (.ci/run does)",
            pytrace=False,
        )
    return Path(found[-1]).parent  # the newest major version


def _as_server_user() -> list[str]:
    """initdb and postgres refuse to run as root; as root, run them as the `postgres` user."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail("running as root but there is no `postgres` system user", pytrace=False)
    return ["runuser", "-u", "postgres", "--"]


def _run(args: list[str], what: str, log: Path | None = None) -> None:
    result = subprocess.run(args, capture_output=True, text=True, timeout=90, check=False)
    if result.returncode != 0:
        server_log = log.read_text(errors="replace") if log and log.exists() else ""
        pytest.fail(
            f"{what} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}\n{server_log}"
        )


@pytest.fixture(scope="module")
def postgres(unused_tcp_port_factory: Callable[[], int]) -> Iterator[PostgresServer]:
    """A PostgreSQL server of our own with an empty database ``mmos`` owned by ``mmos``."""
    bindir = _postgres_bin()
    prefix = _as_server_user()
    # Not pytest's tmp_path: its parent is private to root, and the server user must reach it.
    workdir = Path(tempfile.mkdtemp(prefix="mmos-postgres-"))
    data, log, pwfile = workdir / "data", workdir / "server.log", workdir / "pwfile"
    server = PostgresServer(port=unused_tcp_port_factory(), password=secrets.token_urlsafe(16))
    pwfile.write_text(server.password + "\n")
    for path in (workdir, pwfile) if prefix else ():
        shutil.chown(path, user="postgres", group="postgres")
    pg_ctl = [*prefix, str(bindir / "pg_ctl"), "-D", str(data)]
    try:
        _run(
            [
                *prefix,
                str(bindir / "initdb"),
                *("-D", str(data), "-U", PG_USER, "--pwfile", str(pwfile)),
                # Password over TCP, as DATABASE_URL carries one; the socket is ours alone.
                *("--auth-host=scram-sha-256", "--auth-local=trust", "--encoding=UTF8"),
                # C locale: the machine's LANG may name a locale that is not generated.
                *("--no-locale", "--no-sync"),
            ],
            "initdb",
        )
        # fsync off: a throwaway cluster. The socket lives in workdir, not /var/run/postgresql.
        options = f"-h 127.0.0.1 -p {server.port} -k {workdir} -c fsync=off"
        _run([*pg_ctl, "-l", str(log), "-o", options, "-w", "-t", "60", "start"], "start", log)
        with server.connect("postgres", autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(PG_DATABASE)))
        yield server
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([*pg_ctl, "-m", "fast", "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def app_env(
    postgres: PostgresServer, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mmos_site.settings",
        "DATABASE_URL": postgres.url,
        "REDIS_URL": redis_url,
        "MMOS_VAR_DIR": str(tmp_path_factory.mktemp("var")),
        "PYTHONUNBUFFERED": "1",
    }


def manage(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )
    if ok:
        assert result.returncode == 0, (
            f"manage.py {' '.join(args)} exited {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result


@pytest.fixture(scope="module")
def migrated(app_env: dict[str, str]) -> dict[str, str]:
    """The database after ``migrate``; returns the subprocess environment."""
    manage(app_env, "migrate", "--no-input")
    return app_env


@pytest.fixture
def consult_config(fake_ollama: FakeOllama, tmp_path: Path) -> Path:
    fake_ollama.respond_with(ConsultScenario())
    path = tmp_path / "consult.yaml"
    path.write_text(consult_config_yaml(fake_ollama.url))
    return path


def rows(server: PostgresServer, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with server.connect() as conn:
        return conn.execute(query, params).fetchall()


def test_migrations_apply_to_postgresql_and_match_the_models(
    migrated: dict[str, str], postgres: PostgresServer
) -> None:
    applied = rows(postgres, "SELECT app, name FROM django_migrations WHERE app = 'orchestration'")
    assert ("orchestration", "0001_initial") in applied
    vendor = manage(
        migrated,
        "shell",
        "--no-imports",
        "-c",
        "from django.db import connection; print(connection.vendor)",
    )
    assert vendor.stdout.strip() == "postgresql"
    check = manage(migrated, "makemigrations", "--check", "--dry-run", ok=False)
    assert check.returncode == 0, f"models and migrations differ:\n{check.stdout}{check.stderr}"


def test_loading_one_configuration_twice_changes_nothing_on_postgresql(
    migrated: dict[str, str], postgres: PostgresServer, consult_config: Path
) -> None:
    snapshot = (
        "SELECT s.id, s.role, s.model, v.id, v.name, v.base_url"
        " FROM orchestration_specialist s JOIN orchestration_server v ON v.id = s.server_id"
        " ORDER BY s.role"
    )
    manage(migrated, "mmos_config", "load", str(consult_config))
    first = rows(postgres, snapshot)
    rules = rows(postgres, "SELECT id, specialist_id FROM orchestration_routingrule ORDER BY id")
    second_load = manage(migrated, "mmos_config", "load", str(consult_config))

    assert "(0 rows removed)" in second_load.stdout
    assert rows(postgres, snapshot) == first
    assert (
        rows(postgres, "SELECT id, specialist_id FROM orchestration_routingrule ORDER BY id")
        == rules
    )
    assert {role for _, role, *_ in first} == {
        "arbiter",
        "coding",
        "reasoning",
        "analysis",
        "interpreter",
    }


def test_an_inline_run_completes_with_its_transcript_stored_in_postgresql(
    migrated: dict[str, str], postgres: PostgresServer, consult_config: Path
) -> None:
    manage(migrated, "mmos_config", "load", str(consult_config))
    result = manage(
        migrated, "mmos_run", "--inline", "--json", "--timeout", "120", "Write a parser"
    )
    transcript = json.loads(result.stdout)

    assert transcript["status"] == "completed", result.stderr
    assert "def parse(text)" in transcript["final_answer"]
    seqs = [m["seq"] for m in transcript["messages"]]
    assert len(seqs) >= 4
    assert seqs == sorted(set(seqs))  # unique and increasing

    conversation_id = transcript["id"]
    [(status, final_answer, last_seq)] = rows(
        postgres,
        "SELECT status, final_answer, last_seq FROM orchestration_conversation WHERE id = %s",
        (conversation_id,),
    )
    assert (status, final_answer) == ("completed", transcript["final_answer"])
    stored = rows(
        postgres,
        "SELECT seq, sender, recipient FROM orchestration_message"
        " WHERE conversation_id = %s ORDER BY seq",
        (conversation_id,),
    )
    assert stored == [(m["seq"], m["sender"], m["recipient"]) for m in transcript["messages"]]
    call_seqs = [
        seq
        for (seq,) in rows(
            postgres,
            "SELECT seq FROM orchestration_toolcall WHERE conversation_id = %s",
            (conversation_id,),
        )
    ]
    assert call_seqs, "the consult and the final answer are stored tool calls"
    # Messages and tool calls draw from one counter (UPDATE … RETURNING), never the same number.
    every_seq = seqs + call_seqs
    assert len(set(every_seq)) == len(every_seq)
    assert max(every_seq) <= last_seq


def _copy_row(
    conn: psycopg.Connection[Any], table: str, row_id: int, changes: dict[str, Any]
) -> None:
    """INSERT a copy of one row (a new id) with ``changes``: every NOT NULL column is filled."""
    columns = [
        name
        for (name,) in conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = %s AND column_name <> 'id' ORDER BY ordinal_position",
            (table,),
        ).fetchall()
    ]
    selected = [
        sql.Placeholder(name) if name in changes else sql.Identifier(name) for name in columns
    ]
    query = sql.SQL("INSERT INTO {t} ({cols}) SELECT {sel} FROM {t} WHERE id = {id}").format(
        t=sql.Identifier(table),
        cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
        sel=sql.SQL(", ").join(selected),
        id=sql.Literal(row_id),
    )
    conn.execute(query, changes)


def test_postgresql_refuses_a_second_message_with_the_same_seq_in_a_conversation(
    migrated: dict[str, str], postgres: PostgresServer, consult_config: Path
) -> None:
    manage(migrated, "mmos_config", "load", str(consult_config))
    run = json.loads(manage(migrated, "mmos_run", "--inline", "--json", "Write a parser").stdout)
    with postgres.connect() as conn:
        [(message_id, seq)] = conn.execute(
            "SELECT id, seq FROM orchestration_message WHERE conversation_id = %s"
            " ORDER BY seq LIMIT 1",
            (run["id"],),
        ).fetchall()
        (last_seq,) = conn.execute(
            "SELECT last_seq FROM orchestration_conversation WHERE id = %s", (run["id"],)
        ).fetchone()
        # The same copy with an unused seq is accepted: only the seq makes the difference.
        with conn.transaction(force_rollback=True):
            _copy_row(
                conn,
                "orchestration_message",
                message_id,
                {"journal_key": "copy-ok", "seq": last_seq + 1},
            )
        with pytest.raises(psycopg.IntegrityError) as refused, conn.transaction():
            _copy_row(conn, "orchestration_message", message_id, {"journal_key": "copy-dup"})
    assert refused.value.diag.constraint_name == "message_seq_unique"
    assert seq == run["messages"][0]["seq"]


def test_postgresql_refuses_a_second_active_version_of_a_prompt_template(
    migrated: dict[str, str], postgres: PostgresServer
) -> None:
    with postgres.connect() as conn:
        # migrate seeds every default template with an active version 1.
        [(version_id, number)] = conn.execute(
            "SELECT id, number FROM orchestration_prompttemplateversion"
            " WHERE is_active ORDER BY id LIMIT 1"
        ).fetchall()
        changes = {"number": number + 100, "note": "copy"}
        with conn.transaction(force_rollback=True):
            _copy_row(
                conn,
                "orchestration_prompttemplateversion",
                version_id,
                {**changes, "is_active": False},
            )
        with pytest.raises(psycopg.IntegrityError) as refused, conn.transaction():
            _copy_row(conn, "orchestration_prompttemplateversion", version_id, changes)
    assert refused.value.diag.constraint_name == "prompt_template_one_active_version"
