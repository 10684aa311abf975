"""The ADL 1.4 parser over the shared corpus of real archetypes (CKM mirrors and other public sources).

The corpus is read in place from the shared root (``$OPENEHR_KIT_SHARED`` or ``../shared``); tests skip with a
clear reason where it is absent.
"""

from __future__ import annotations

import collections
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from openehr_kit.am.adl import load_archetype
from openehr_kit.am.model import Archetype, ArchetypeSlot
from openehr_kit.diagnostics import ParseError

#: share of corpus files that must parse
REQUIRED_SHARE = 0.995


@dataclass
class CorpusRun:
    files: list[Path]
    parsed: dict[Path, Archetype]
    failed: dict[Path, ParseError]
    seconds: float


def corpus_files(shared: Path) -> list[Path]:
    root = shared / "corpus"
    return sorted([*root.glob("ckm/**/*.adl"), *root.glob("adl-other/**/*.adl")])


@pytest.fixture(scope="module")
def run(shared: Path) -> CorpusRun:
    files = corpus_files(shared)
    if not files:
        pytest.skip(f"no .adl files under {shared / 'corpus'}")
    parsed: dict[Path, Archetype] = {}
    failed: dict[Path, ParseError] = {}
    start = time.perf_counter()
    for f in files:
        try:
            parsed[f] = load_archetype(f)
        except ParseError as e:
            failed[f] = e
    return CorpusRun(files, parsed, failed, time.perf_counter() - start)


def test_corpus_parse_share(run: CorpusRun) -> None:
    share = len(run.parsed) / len(run.files)
    report = "\n".join(f"  {e}" for e in run.failed.values())
    print(f"\nparsed {len(run.parsed)}/{len(run.files)} ({share:.2%}) in {run.seconds:.2f}s")
    if report:
        print("failures:\n" + report)
    assert share >= REQUIRED_SHARE, f"only {len(run.parsed)}/{len(run.files)} parse; failures:\n{report}"


def test_failures_are_located(run: CorpusRun) -> None:
    for path, e in run.failed.items():
        assert e.file == str(path) and e.line and e.column and e.expected and e.found


def test_parsing_twice_gives_equal_models(run: CorpusRun) -> None:
    for path, archetype in run.parsed.items():
        assert load_archetype(path) == archetype, path


def test_ids_concepts_and_languages(run: CorpusRun) -> None:
    for path, a in run.parsed.items():
        assert a.archetype_id == path.stem, path
        assert a.rm_type in a.archetype_id, path
        assert a.ontology.text(a.concept) is not None, path
        assert a.original_language in a.ontology.term_definitions, path
        assert a.definition.node_id == a.concept, path


def test_node_paths_are_unique(run: CorpusRun) -> None:
    for path, a in run.parsed.items():
        counts = collections.Counter(n.path for n in a.iter_nodes() if n.node_id)
        dupes = [p for p, c in counts.items() if c > 1]
        assert not dupes, f"{path}: {dupes[:5]}"


def test_node_ids_have_terms(run: CorpusRun) -> None:
    """Every at-code of the definition has a term in the original language (checks nothing was mis-read)."""
    missing: list[str] = []
    for path, a in run.parsed.items():
        for n in a.iter_nodes():
            if n.node_id and n.node_id.startswith("at") and a.ontology.term(n.node_id, a.original_language) is None:
                missing.append(f"{path.name}: {n.path}")
    # a handful of real archetypes lack a term for a node; they are authoring errors, not parse errors
    assert len(missing) <= max(5, len(run.parsed) // 50), missing[:20]


def test_slot_patterns_compile(run: CorpusRun) -> None:
    for path, a in run.parsed.items():
        for n in a.iter_nodes():
            if isinstance(n.node, ArchetypeSlot):
                for assertion in n.node.includes + n.node.excludes:
                    if assertion.pattern is not None:
                        re.compile(assertion.pattern)
                    else:
                        assert assertion.expression, path
