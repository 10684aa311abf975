"""Compositions per second through validate + map + serialise + schema-check, per registry format, one process.

For each shipped mapping, N compositions are generated from its template (a deterministic maximal composition and
the shipped example compositions, cycled) and each goes through ``export_composition`` (validation against the
template, the mapping, the format's rules, serialisation and, for JSON, the JSON Schema) plus, for KREMT, a
validation of the XML against Kreftregisteret's XSD when the shared corpus is present (off with --no-xsd).

    python bench/bench_export.py [-n 300] [--no-xsd]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from lxml import etree  # noqa: E402

from openehr_kit.content import content_dir  # noqa: E402
from openehr_kit.mapping.exports import ExportContext  # noqa: E402
from openehr_kit.mapping.formats import find_format  # noqa: E402
from openehr_kit.mapping.loader import load_mapping  # noqa: E402
from openehr_kit.mapping.pipeline import bundled_template, export_composition  # noqa: E402
from openehr_kit.rm.reading import read_composition  # noqa: E402

NID = "01010012356"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=300, help="compositions per mapping")
    ap.add_argument("--no-xsd", action="store_true", help="skip the official XSD check of KREMT messages")
    args = ap.parse_args()
    from shared_data import shared_root

    shared = None if args.no_xsd else shared_root()
    print(f"{'mapping':48} {'format':44} {'n':>5} {'ok':>5} {'comp/s':>8}")
    for mp in sorted(content_dir("mappings").glob("*.yaml")):
        m = load_mapping(mp)
        template = bundled_template(m.template_id)
        fmt = find_format(m.format_id, m.format_version)
        assert template is not None and fmt is not None
        folder = content_dir("templates") / "examples" / m.template_id.split(".")[1]
        pool = [read_composition(p) for p in sorted(folder.glob("*.json"))
                if not p.name.endswith((".expected.json", ".flat.json")) and not p.name.startswith("invalid_")]
        schema = None
        if shared is not None and fmt.serialisation == "kremt-xml":
            xsd = shared / "registry-specs" / "kreftregisteret-prostata-v4.0" / f"{fmt.format_id.split('.')[1]}_v4_0.xsd"
            schema = etree.XMLSchema(etree.parse(str(xsd)))
        ok = 0
        start = time.perf_counter()
        for i in range(args.n):
            comp = pool[i % len(pool)]
            ctx = ExportContext(national_id=NID, patient_name="P", created=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
            out = export_composition(comp, m, template, ctx, fmt=fmt, today=dt.date(2030, 1, 1))
            if out.ok:
                good = True
                if schema is not None:
                    good = all(schema.validate(etree.fromstring(r.data)) for r in out.rendered if r.data)
                ok += good
        secs = time.perf_counter() - start
        print(f"{m.mapping_id:48} {fmt.key:44} {args.n:5} {ok:5} {args.n / secs:8.0f}")


if __name__ == "__main__":
    main()
