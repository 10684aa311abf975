"""Datafangst's batched reading: the ledger read once per batch of items, the uid found once per item, the
synthetic input built from bytes; none of it may change what a run does."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from openehr_kit.pipeline import load_config, run
from openehr_kit.pipeline.ledger import Ledger
from openehr_kit.pipeline.runner import prepare
from openehr_kit.pipeline.sources import Item, partition_key, quick_uid
from openehr_kit.pipeline.synthetic import SYSTEM, comp_uid, iter_ndjson, write_side_files


@pytest.fixture(scope="module")
def workspace_setup(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    d = tmp_path_factory.mktemp("setup")
    return prepare(load_config(_workspace(d)))


def _workspace(d: Path) -> Path:
    write_side_files(d, patients=20, reserve_every=0)
    (d / "feed.ndjson").write_bytes(b"")
    cfg = d / "datafangst.yaml"
    cfg.write_text(cfg.read_text() + "fsync: false\n")
    return cfg


def _items(lines: list[bytes]) -> list[Item]:
    return [Item(f"gen:{i}", line, ndjson=True) for i, line in enumerate(lines)]


@pytest.mark.parametrize("workers", [1, 2])
def test_versions_and_repeats_within_one_batch(tmp_path: Path, workspace_setup, workers: int) -> None:  # type: ignore[no-untyped-def]
    """v2, then v1 twice, then v2 again, all in one batch: the ledger's answers must follow each write."""
    v1, v2 = list(iter_ndjson(1, patients=20, correct_every=1))
    other = list(iter_ndjson(3, patients=20, seed="other"))
    cfg = load_config(_workspace(tmp_path))
    s = run(cfg, setup=workspace_setup, workers=workers, items=_items([v2, *other, v1, v1, v2]))
    c = s.counts
    assert s.stopped is None
    assert (c["compositions"], c["superseded"], c["already_done"]) == (7, 1, 2)
    again = run(cfg, setup=workspace_setup, workers=workers, items=_items([v1, v2, *other]))
    assert again.counts["already_done"] == 5 and again.counts["superseded"] == 0


def test_histories_read_together_match_one_by_one(tmp_path: Path) -> None:
    led = Ledger(tmp_path / "ledger.sqlite", durable=False)
    led.begin()
    led.add_final([(uid, v, f"k{k}", "reg", f"m{k}", "withheld", None, f"h{uid}{v}{k}")
                   for uid in ("a", "b", "c") for v in (3, 1, 2) for k in (2, 1)])
    led.set_compositions([("a", 1, "done", "x", None), ("b", 2, "quarantined", None, "DFG104")])
    led.commit()
    uids = ["a", "b", "c", "none", "a"]
    together = led.histories(uids)
    assert set(together) == {"a", "b", "c", "none"}
    for uid in together:
        assert together[uid].rows == led.history(uid).rows
    assert [r[6] for r in together["a"].rows] == [1, 1, 2, 2, 3, 3]
    assert led.composition_states(uids) == {u: led.composition_state(u) for u in uids}
    led.close()


def test_quick_uid_is_searched_once_and_keys_the_partition() -> None:
    line = next(iter(iter_ndjson(1, seed="q")))
    item = Item("gen:0", line, ndjson=True)
    assert quick_uid(item) == (comp_uid(0, "q"), 1) and item.uid_searched
    item.data = b"{}"  # the text is not searched again
    assert quick_uid(item) == (comp_uid(0, "q"), 1)
    uid = comp_uid(0, "q")
    tomb = Item("x.deleted", f"{uid}::{SYSTEM}::2".encode(), tombstone=True, suffix=".deleted")
    xml = Item("x.xml", f'<composition><uid xsi:type="OBJECT_VERSION_ID"><value>{uid}::{SYSTEM}::1</value></uid>'
               "</composition>".encode(), suffix=".xml")
    line_tomb = Item("f:1", f'{{"deleted": "{uid}::{SYSTEM}::3"}}'.encode(), ndjson=True)
    assert {partition_key(i) for i in (Item("gen:0", line, ndjson=True), tomb, xml, line_tomb)} == {uid}
    assert quick_uid(tomb) is None and quick_uid(line_tomb) is None


def test_synthetic_uids_are_uuid5() -> None:
    for i in range(200):
        assert comp_uid(i, "s") == str(uuid.uuid5(uuid.NAMESPACE_URL, f"openehr-kit-synthetic-s-{i}"))


def test_partition_key_of_a_json_marker_file_and_of_deeply_nested_input() -> None:
    uid = comp_uid(0, "q")
    marker = Item("x.deleted", f'{{"deleted": "{uid}::{SYSTEM}::2", "ehr_id": "e"}}'.encode(), tombstone=True,
                  suffix=".deleted")
    assert partition_key(marker) == uid  # the same worker as the versions it deletes
    deep = Item("deep.json", b"[" * 100_000 + b"]" * 100_000)
    assert partition_key(deep) == ""  # no crash in the parent: the worker quarantines it
