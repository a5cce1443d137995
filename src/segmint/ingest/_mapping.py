"""Map a file's column headers to the fields of an entity.

Exports name their columns in the language of the system and the person who built the
report: ``Kundenummer``, ``Kundnummer``, ``Customer ID`` and ``customer_id`` are one field.
The synonym table below lists, per entity and field, the headers we recognise (English,
Danish, Swedish, Norwegian, a little Finnish, and the names common shop, ERP, CRM and email
systems use).  Headers are compared after :func:`normalise_header` folds case, Nordic
letters and punctuation, so ``Beløb inkl. moms`` and ``belob_inkl_moms`` need one entry.

Context matters: ``Kundenummer`` is ``customer_id`` in most tables but ``company_id`` in
``contacts`` (a contact's customer number is the company's), and ``Dato`` is the order date
in ``transactions`` but the consent time in ``consents``.  So the table is per entity.

The table is the source of ``docs/loading.md``'s column-name section
(:func:`synonym_markdown`); a test fails when the two drift apart.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

from segmint.datamodel import ENTITIES, Entity
from segmint.exceptions import InputError
from segmint.ingest._synonyms import SYNONYMS

__all__ = [
    "ColumnMapping",
    "map_columns",
    "normalise_header",
    "safe_column_name",
    "synonym_markdown",
    "synonym_table",
]

#: headers at least this similar (difflib ratio) to a known synonym map to its field
FUZZY_RATIO = 0.9

_FOLD = str.maketrans(
    {"æ": "ae", "ø": "oe", "å": "aa", "ä": "ae", "ö": "oe", "ü": "ue", "é": "e", "è": "e"}
)
_DROP = re.compile(r"[\s\-_./\ufeff\u200b]+")


def normalise_header(header: str) -> str:
    """The form headers are compared in: ``"Beløb inkl. moms"`` -> ``"beloebinklmoms"``."""
    return _DROP.sub("", header.strip().lower().translate(_FOLD))


def synonym_table() -> dict[str, dict[str, list[str]]]:
    """Entity -> field -> recognised headers; each field's own name comes first.

    Headers are matched after :func:`normalise_header`, so each entry also stands for its
    variants in case, spacing and punctuation (``Kundenr`` matches ``KUNDE NR.``).
    """
    return {e: {f: list(h) for f, h in fs.items()} for e, fs in _table().items()}


@cache
def _table() -> dict[str, dict[str, list[str]]]:
    table: dict[str, dict[str, list[str]]] = {}
    for name, ent in ENTITIES.items():
        known = SYNONYMS.get(name, {})
        fields: dict[str, list[str]] = {}
        for f in ent.fields:
            fields[f.name] = list(dict.fromkeys((f.name, *known.get(f.name, []))))
        table[name] = fields
    return table


@cache
def _lookup(entity_name: str, fields: tuple[str, ...]) -> dict[str, str]:
    """Normalised header -> field for one entity (external tables: their own names)."""
    by_header: dict[str, str] = {}
    table = _table().get(entity_name, {})
    for name in fields:
        for header in table.get(name, [name]):
            by_header.setdefault(normalise_header(header), name)
    return by_header


# ---------------------------------------------------------------------------- mapping


@dataclass(frozen=True)
class ColumnMapping:
    """How a file's columns map to an entity's fields.

    Attributes
    ----------
    fields
        Source header -> field, in file order.
    extra
        Source headers not mapped to a field, kept as extra columns.
    extra_names
        Source header -> the stored name of that extra column (safe snake_case, unique).
    missing_required
        Required fields of the entity that no column maps to.
    conflicts
        Header -> field it also matches, for headers left as extra because an earlier
        column (or an override) already provides that field.
    """

    fields: dict[str, str] = field(default_factory=dict)
    extra: list[str] = field(default_factory=list)
    extra_names: dict[str, str] = field(default_factory=dict)
    missing_required: list[str] = field(default_factory=list)
    conflicts: dict[str, str] = field(default_factory=dict)

    @property
    def columns(self) -> dict[str, str]:
        """Field -> source header (the inverse of :attr:`fields`)."""
        return {f: h for h, f in self.fields.items()}


def map_columns(
    headers: Sequence[str],
    entity: Entity,
    overrides: Mapping[str, str] | None = None,
) -> ColumnMapping:
    """Map ``headers`` to the fields of ``entity``.

    ``overrides`` (``--map COL=FIELD``) win; then exact synonyms, in file order; then
    headers within :data:`FUZZY_RATIO` of a synonym.  When two headers map to one field,
    the first wins and the other is kept as an extra column (and listed in
    ``conflicts``).

    Raises
    ------
    InputError
        An override names a field the entity does not have, a column the file does not
        have, or two columns for one field.
    """
    headers = list(headers)
    fields = entity.field_names
    chosen: dict[str, str] = {}  # header -> field
    taken: dict[str, str] = {}  # field -> header
    conflicts: dict[str, str] = {}

    for column, target in (overrides or {}).items():
        header = _find_header(column, headers)
        name = _find_field(target, entity)
        if name in taken and taken[name] != header:
            raise InputError(
                f"--map gives field {name!r} two columns, {taken[name]!r} and {header!r}; "
                f"map only one of them",
                column=header,
            )
        chosen[header] = name
        taken[name] = header

    def assign(header: str, name: str) -> None:
        if name in taken:
            conflicts[header] = name
        else:
            chosen[header] = name
            taken[name] = header

    lookup = _lookup(entity.name, fields)
    pending: list[str] = []
    for header in headers:
        if header in chosen:
            continue
        exact = lookup.get(normalise_header(header))
        if exact is None:
            pending.append(header)
        else:
            assign(header, exact)
    for header in pending:  # fuzzy matches only for what no exact synonym claimed
        near = _fuzzy(normalise_header(header), lookup)
        if near is not None:
            assign(header, near)

    mapped = {h: chosen[h] for h in headers if h in chosen}
    extra = [h for h in headers if h not in chosen]
    reserved = set(fields)
    extra_names: dict[str, str] = {}
    for header in extra:
        extra_names[header] = _unique(safe_column_name(header), reserved)
    missing = [f for f in entity.required if f not in taken]
    return ColumnMapping(mapped, extra, extra_names, missing, conflicts)


def _find_header(column: str, headers: list[str]) -> str:
    if column in headers:
        return column
    wanted = normalise_header(column)
    for header in headers:
        if normalise_header(header) == wanted:
            return header
    available = ", ".join(repr(h) for h in headers)
    raise InputError(
        f"--map names column {column!r}, which the file does not have; its columns are {available}",
        column=column,
    )


def _find_field(target: str, entity: Entity) -> str:
    if target in entity.field_names:
        return target
    suggestion = difflib.get_close_matches(target, entity.field_names, n=1, cutoff=0.6)
    if not suggestion:  # maybe a header spelling of the field: --map X=kundenummer
        by_header = _lookup(entity.name, entity.field_names)
        exact = by_header.get(normalise_header(target))
        suggestion = [exact] if exact else []
    hint = f"did you mean {suggestion[0]!r}? " if suggestion else ""
    raise InputError(
        f"--map names field {target!r}, which table {entity.name!r} does not have; {hint}"
        f"its fields are {', '.join(entity.field_names)}"
    )


def _fuzzy(key: str, lookup: Mapping[str, str]) -> str | None:
    if len(key) < 4:  # short headers are too easily near something else
        return None
    best: tuple[float, str] | None = None
    for known, name in lookup.items():
        matcher = difflib.SequenceMatcher(None, key, known)
        if matcher.real_quick_ratio() < FUZZY_RATIO or matcher.quick_ratio() < FUZZY_RATIO:
            continue
        ratio = matcher.ratio()
        if ratio >= FUZZY_RATIO and (best is None or ratio > best[0]):
            best = (ratio, name)
    return best[1] if best else None


_TRANSLITERATE = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ß": "ss", "ð": "d", "þ": "th"})


def safe_column_name(header: str) -> str:
    """A snake_case name for an extra column: ``"Sidste køb (dato)"`` -> ``"sidste_koeb_dato"``.

    Letters, digits and ``_`` only, starting with a letter; never empty.
    """
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", header.strip())
    text = text.lower().translate(_TRANSLITERATE)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    if not text:
        return "column"
    return text if text[0].isalpha() else f"col_{text}"


def _unique(name: str, reserved: set[str]) -> str:
    candidate, n = name, 2
    while candidate in reserved:
        candidate = f"{name}_{n}"
        n += 1
    reserved.add(candidate)
    return candidate


# ---------------------------------------------------------------------------- for docs


def synonym_markdown() -> str:
    """The column-name section of ``docs/loading.md``, generated from the synonym table."""
    lines: list[str] = []
    for entity_name, fields in _table().items():
        lines += [f"### `{entity_name}`", "", "| field | recognised column names |", "|---|---|"]
        for name, headers in fields.items():
            required = " (required)" if name in ENTITIES[entity_name].required else ""
            names = ", ".join(headers)
            lines.append(f"| `{name}`{required} | {names} |")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
