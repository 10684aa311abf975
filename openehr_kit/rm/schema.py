"""Reference model metadata: RM types, their ancestors, abstractness and attributes (RM 1.1.0).

Used by the OPT loader, the composition validator and lint to ask "does this RM type exist?", "may a
DV_CODED_TEXT stand where a DV_TEXT is declared?", "is COMPOSITION.category mandatory?" and the like.

The table lives in :mod:`openehr_kit.rm._rm_1_1_0` in a compact textual form; it is parsed on the first call and
every look-up afterwards is a dict hit (generic specialisations such as ``DV_INTERVAL<DV_COUNT>`` are cached).

Names are matched exactly first and then case-insensitively, so the ITS spellings of foundation types
(``DATE_TIME``, ``ISO8601_DATE``, ``INTERVAL``) find ``Date_time``, ``Iso8601_date``, ``Interval``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from types import MappingProxyType

from openehr_kit.am.model import Interval
from openehr_kit.rm import _rm_1_1_0 as _table

__all__ = [
    "RM_VERSION",
    "TYPE_ATTRIBUTE",
    "RmAttribute",
    "RmType",
    "all_type_names",
    "attribute",
    "concrete_subtypes",
    "is_primitive",
    "is_subtype",
    "rm_type",
    "split_generic",
]

RM_VERSION: str = _table.RM_VERSION

_MANDATORY = Interval(1, 1)
_OPTIONAL = Interval(0, 1)
_CONTAINER = Interval(0, None)


@dataclass(frozen=True, slots=True)
class RmAttribute:
    """One attribute of an RM type.

    ``type_name`` is the declared type without generic arguments; for a container it is the item type
    (``List<CONTENT_ITEM>`` gives ``CONTENT_ITEM``). Generic arguments of a single-valued attribute are in
    ``type_args`` (``PARTICIPATION.time`` is ``DV_INTERVAL`` with ``("DV_DATE_TIME",)``).
    """

    name: str
    type_name: str
    is_container: bool
    mandatory: bool
    #: container whose RM cardinality is ``>=1``: if present it must hold at least one item
    non_empty: bool = False
    type_args: tuple[str, ...] = ()
    #: the generic parameter (``"T"``) this attribute's type was bound from, e.g. ``EVENT.data``
    generic_param: str | None = None
    #: a function in the RM: never serialised, never constrained
    is_computed: bool = False
    #: serialisation infrastructure rather than RM (the JSON ``_type`` discriminator)
    is_system: bool = False
    #: the class that declares (or last redefines) the attribute
    declared_in: str = ""

    @property
    def existence(self) -> Interval[int]:
        """RM existence: 1..1 for mandatory attributes, 0..1 otherwise."""
        return _MANDATORY if self.mandatory else _OPTIONAL

    @property
    def cardinality(self) -> Interval[int] | None:
        """0..* for containers (see ``non_empty`` for the RM's ``>=1`` rule), None for single attributes."""
        return _CONTAINER if self.is_container else None


@dataclass(frozen=True, slots=True)
class RmType:
    """An RM class (or a foundation/primitive type when ``primitive`` is set).

    ``attributes`` holds the flattened attributes, inherited ones included, with generic parameters bound to
    ``type_args`` when the type was looked up with arguments (``DV_INTERVAL<DV_COUNT>``) and to their
    conformance types otherwise.
    """

    name: str
    abstract: bool
    parents: tuple[str, ...]
    attributes: Mapping[str, RmAttribute] = field(compare=False, hash=False, repr=False)
    primitive: bool = False
    #: (parameter, conformance type) pairs, e.g. ``(("T", "DV_ORDERED"),)`` for DV_INTERVAL
    generic_parameters: tuple[tuple[str, str], ...] = ()
    type_args: tuple[str, ...] = ()

    @property
    def full_name(self) -> str:
        """The name with its generic arguments, e.g. ``DV_INTERVAL<DV_COUNT>``."""
        return f"{self.name}<{','.join(self.type_args)}>" if self.type_args else self.name


#: The JSON ``_type`` discriminator; ``attribute()`` answers it for every RM class (it is not in ``attributes``).
TYPE_ATTRIBUTE = RmAttribute("_type", "String", is_container=False, mandatory=False, is_system=True)


# ---------------------------------------------------------------------------------------------------------------
# Name handling


def split_generic(name: str) -> tuple[str, tuple[str, ...]]:
    """``"DV_INTERVAL<DV_COUNT>"`` -> ``("DV_INTERVAL", ("DV_COUNT",))``; nested arguments stay whole."""
    name = name.strip()
    lt = name.find("<")
    if lt < 0 or not name.endswith(">"):
        return name, ()
    args: list[str] = []
    depth = 0
    start = lt + 1
    for i in range(lt + 1, len(name) - 1):
        ch = name[i]
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(name[start:i].strip())
            start = i + 1
    args.append(name[start:-1].strip())
    return name[:lt].strip(), tuple(a for a in args if a)


def _parse_spec(spec: str) -> tuple[str, tuple[str, ...], bool, bool, bool, bool]:
    """Attribute mini-language -> (type, args, container, non_empty, mandatory, computed)."""
    computed = spec.startswith("=")
    spec = spec.lstrip("=")
    mandatory = not spec.endswith("?")
    spec = spec.rstrip("?")
    container = non_empty = False
    if spec.endswith("[*]") or spec.endswith("[+]"):
        container, non_empty = True, spec.endswith("[+]")
        spec = spec[:-3]
    base, args = split_generic(spec)
    return base, args, container, non_empty, mandatory and not computed, computed


# ---------------------------------------------------------------------------------------------------------------
# The model, built once


class _Model:
    """Parsed table: canonical names, flattened raw attributes, ancestor sets, concrete descendants."""

    def __init__(self) -> None:
        self.kind: dict[str, tuple[bool, tuple[str, ...], bool]] = {}  # name -> (abstract, parents, primitive)
        self.params: dict[str, tuple[tuple[str, str], ...]] = {
            n: tuple(p.items()) for n, p in _table.GENERIC_PARAMETERS.items()
        }
        for name, (kind, parents) in _table.PRIMITIVES.items():
            self.kind[name] = (kind == "A", parents, True)
        for name, (kind, parents, _attrs) in _table.CLASSES.items():
            if name in self.kind:
                raise ValueError(f"RM table: {name} defined twice")
            self.kind[name] = (kind == "A", parents, False)
        self.by_upper = {n.upper(): n for n in self.kind}
        for name, (_a, parents, _p) in self.kind.items():
            for p in parents:
                if p not in self.kind:
                    raise ValueError(f"RM table: {name} has unknown parent {p}")

        self.ancestors: dict[str, frozenset[str]] = {}
        for name in self.kind:
            self._ancestors(name)

        self.raw: dict[str, dict[str, RmAttribute]] = {}
        for name in self.kind:
            self._flatten(name)

        desc: dict[str, list[str]] = {n: [] for n in self.kind}
        for name, anc in self.ancestors.items():
            if not self.kind[name][0]:
                for a in anc:
                    desc[a].append(name)
        self.concrete: dict[str, tuple[str, ...]] = {n: tuple(sorted(v)) for n, v in desc.items()}

    def _ancestors(self, name: str) -> frozenset[str]:
        got = self.ancestors.get(name)
        if got is None:
            acc = {name}
            for p in self.kind[name][1]:
                acc |= self._ancestors(p)
            got = self.ancestors[name] = frozenset(acc)
        return got

    def _flatten(self, name: str) -> dict[str, RmAttribute]:
        got = self.raw.get(name)
        if got is not None:
            return got
        attrs: dict[str, RmAttribute] = {}
        for p in self.kind[name][1]:
            attrs.update(self._flatten(p))
        entry = _table.CLASSES.get(name)
        own = entry[2] if entry else {}
        params = {p for p, _c in self.params.get(name, ())}
        for aname, spec in own.items():
            base, args, container, non_empty, mandatory, computed = _parse_spec(spec)
            attrs[aname] = RmAttribute(
                name=aname,
                type_name=base,
                is_container=container,
                mandatory=mandatory,
                non_empty=non_empty,
                type_args=args,
                generic_param=base if base in params else None,
                is_computed=computed,
                declared_in=name,
            )
        self.raw[name] = attrs
        return attrs

    def canonical(self, name: str) -> str | None:
        if name in self.kind:
            return name
        return self.by_upper.get(name.upper())

    def build(self, name: str, args: tuple[str, ...]) -> RmType:
        """The RmType for canonical ``name``, generic parameters bound to ``args`` (or their constraints)."""
        abstract, parents, primitive = self.kind[name]
        params = self.params.get(name, ())
        binding = {p: (args[i] if i < len(args) else conf) for i, (p, conf) in enumerate(params)}
        attrs: dict[str, RmAttribute] = {}
        for aname, a in self.raw[name].items():
            if a.generic_param is not None and a.generic_param not in binding:
                # inherited by a class that does not re-declare the parameter: use the declarer's constraint
                a = dataclasses.replace(a, type_name=dict(self.params[a.declared_in])[a.generic_param])
            elif binding and (a.type_name in binding or any(x in binding for x in a.type_args)):
                a = dataclasses.replace(
                    a,
                    type_name=binding.get(a.type_name, a.type_name),
                    type_args=tuple(binding.get(x, x) for x in a.type_args),
                    generic_param=a.type_name if a.type_name in binding else None,
                )
            attrs[aname] = a
        return RmType(
            name=name,
            abstract=abstract,
            parents=parents,
            attributes=MappingProxyType(attrs),
            primitive=primitive,
            generic_parameters=params,
            type_args=args,
        )


@cache
def _model() -> _Model:
    return _Model()


@cache
def _plain(name: str) -> RmType:
    return _model().build(name, ())


@lru_cache(maxsize=4096)
def _resolve(name: str) -> RmType | None:
    base, args = split_generic(name)
    m = _model()
    canon = m.canonical(base)
    if canon is None:
        return None
    if not args:
        return _plain(canon)
    return m.build(canon, args)


# ---------------------------------------------------------------------------------------------------------------
# Public API


def rm_type(name: str) -> RmType | None:
    """The RM (or foundation) type called ``name``, generic arguments allowed; None when unknown.

    Generic arguments are not checked against their parameters' conformance types (use ``is_subtype``).
    """
    return _resolve(name)


def is_primitive(name: str) -> bool:
    """True for foundation/assumed types (String, Integer, Date_time, Iso8601_date, List...)."""
    t = _resolve(name)
    return t is not None and t.primitive


def is_subtype(sub: str, sup: str) -> bool:
    """Reflexive, transitive conformance of ``sub`` to ``sup``; False when either is unknown.

    Generic arguments are compared pairwise when both sides have the same number; otherwise only the base
    types are compared (``DV_INTERVAL<DV_COUNT>`` conforms to ``DV_INTERVAL``).
    """
    sub_base, sub_args = split_generic(sub)
    sup_base, sup_args = split_generic(sup)
    m = _model()
    a, b = m.canonical(sub_base), m.canonical(sup_base)
    if a is None or b is None or b not in m.ancestors[a]:
        return False
    if sub_args and sup_args and len(sub_args) == len(sup_args):
        return all(is_subtype(x, y) for x, y in zip(sub_args, sup_args))
    return True


def concrete_subtypes(name: str) -> list[str]:
    """All non-abstract types conforming to ``name`` (itself included when concrete), sorted; [] if unknown."""
    m = _model()
    canon = m.canonical(split_generic(name)[0])
    return list(m.concrete[canon]) if canon is not None else []


def attribute(type_name: str, attr_name: str) -> RmAttribute | None:
    """The attribute ``attr_name`` of ``type_name`` (inherited ones included); None when either is unknown.

    ``_type`` is answered with ``TYPE_ATTRIBUTE`` for every non-primitive type.
    """
    t = _resolve(type_name)
    if t is None:
        return None
    a = t.attributes.get(attr_name)
    if a is None and attr_name == "_type" and not t.primitive:
        return TYPE_ATTRIBUTE
    return a


def all_type_names() -> tuple[str, ...]:
    """Canonical names of every known type, classes and foundation types alike."""
    return tuple(_model().kind)
