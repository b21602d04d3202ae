"""Backups taken under load through the CLI, restored into a new folder, answering as the service did."""

from __future__ import annotations

import dataclasses
import stat
from pathlib import Path

import pytest

from actors.hosts_residents import ResidentHost
from actors.hosts_safety import ShelterHost
from actors.journal import Journal
from tests.actors.test_faults import start_load
from twin.store import Store

pytestmark = pytest.mark.slow


def journal(path: Path) -> list[tuple]:
    """Every journaled command of a SQLite store: (op, body, at)."""
    with Store.sqlite(path) as store:
        return [(e.op, e.body, e.at) for e in Journal(store).entries()]


def test_a_backup_under_load_restores_each_store_as_it_was_at_one_instant(live, ray_session, cli,
                                                                            tmp_path):
    thread, box = start_load(live, "disaster", rate=60, duration=6, seed=71)
    taken = cli("backup", "--data", live.spec.data_dir, "--to", str(tmp_path / "b.tar.gz"))
    thread.join(120)
    assert taken.returncode == 0, taken.stderr
    assert box and box[0].ok > 0
    assert stat.S_IMODE((tmp_path / "b.tar.gz").stat().st_mode) == 0o600
    restored = tmp_path / "restored"
    r = cli("restore", "--from", str(tmp_path / "b.tar.gz"), "--data", str(restored))
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(restored.stat().st_mode) == 0o700
    live_folder = Path(live.spec.data_dir)
    stores = sorted(p.name for p in live_folder.glob("*.sqlite"))
    assert stores and stores == sorted(p.name for p in restored.glob("*.sqlite"))
    for name in stores:  # a consistent copy: the live journal continues the restored one
        copy, now = journal(restored / name), journal(live_folder / name)
        assert now[:len(copy)] == copy, name
    assert (restored / "credentials.json").read_bytes() == (live_folder / "credentials.json").read_bytes()


def test_a_restored_folder_answers_balances_and_head_counts_as_the_live_service(live, ray_session,
                                                                               cli, tmp_path):
    thread, box = start_load(live, "payments", rate=40, duration=3, seed=72)
    thread.join(120)
    assert cli("backup", "--data", live.spec.data_dir, "--to", str(tmp_path / "q.tar.gz")).returncode == 0
    assert cli("restore", "--from", str(tmp_path / "q.tar.gz"), "--data", str(tmp_path / "r")).returncode == 0
    spec = dataclasses.replace(live.spec, data_dir=str(tmp_path / "r")).open()
    ns, now = live.spec.namespace, live.now()
    for k in range(spec.resident_shards):
        actor = ray_session.get_actor(f"residents_{k}", namespace=ns)
        assert ResidentHost(spec, k).balances() == ray_session.get(actor.balances.remote())
    for g in range(spec.shelter_groups):
        actor = ray_session.get_actor(f"shelters_{g}", namespace=ns)
        live_rows = ray_session.get(actor.register.remote())
        assert ShelterHost(spec, g).register().equals(live_rows)
    assert now > 0


def test_restore_never_overwrites_and_a_backup_never_replaces_a_file(cli, tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    (tmp_path / "b.tar.gz").write_bytes(b"not a backup")
    r = cli("restore", "--from", str(tmp_path / "b.tar.gz"), "--data", str(tmp_path / "busy"))
    assert r.returncode == 2 and "not empty" in r.stderr
    assert (tmp_path / "busy" / "keep.txt").read_text() == "mine"
    r = cli("restore", "--from", str(tmp_path / "b.tar.gz"), "--data", str(tmp_path / "new"))
    assert r.returncode == 2 and "is not a myna-twin backup" in r.stderr
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "service.json").write_text("{}")
    r = cli("backup", "--data", str(tmp_path / "data"), "--to", str(tmp_path / "b.tar.gz"))
    assert r.returncode == 2 and "exists already" in r.stderr
    assert (tmp_path / "b.tar.gz").read_bytes() == b"not a backup"
