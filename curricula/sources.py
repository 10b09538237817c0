"""Data sources chosen by a short spec string: ``arith``, ``gsm8k:PATH``, ``jsonl:PATH``, hub ids.

A spec is ``NAME[:ARG][,key=value...]``; the first comma-separated item after the
colon without ``=`` is a path (or hub id), the rest are options:

============================================  ==============================================
``arith`` / ``arith:seed=3,n=500``            the synthetic task (:mod:`sparft.curricula.arith`);
                                              options ``seed``, ``n``, ``topics=addition+word``,
                                              ``levels=1-4``
``gsm8k:PATH``                                a GSM8K-format jsonl file (``question``, ``answer``
                                              ending in ``#### N``) or a folder holding
                                              ``{split}.jsonl``; option ``n`` (seeded subset)
``gsm8k``                                     the hub dataset ``openai/gsm8k`` (network)
``jsonl:PATH,question=F,answer=F,...``        your own jsonl; fields ``question``, ``answer``,
                                              ``topic``, ``level``, ``solution``, ``id`` map
                                              to your column names; ``n``
``hf:ID[,config=C,...]`` or ``OWNER/NAME``    any Hugging Face dataset (network), same mapping
============================================  ==============================================

Every row is checked (a JSON object, the mapped fields present, a non-empty
question, an answer that parses). A malformed row is reported as
``FILE:LINE: field 'F': what is wrong``; with ``on_error="raise"`` (default) the
load fails with that line, with ``on_error="skip"`` the row is skipped and
counted in :attr:`LoadResult.skipped`, never dropped silently.

When ``PATH`` is a file named ``train.jsonl`` / ``test.jsonl`` and another split
is asked for, the sibling file of that split is used, so one spec serves both the
training pool and the evaluation set.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sparft.curricula import arith
from sparft.curricula.examples import Example
from sparft.curricula.prompts import answer_prompt, question_text  # noqa: F401 - re-exported
from sparft.curricula.rewards import extract_final_number
from sparft.registry import Registry

log = logging.getLogger(__name__)

#: Every data source, by the name a spec starts with. A source is a function
#: ``load(spec, options, split=, seed=, n=, on_error=) -> LoadResult | list[Example]``
#: (see :func:`read_source`) registered with ``@SOURCES.register("name")``; ``takes_path=True``
#: says that the spec's argument is a file path (the config resolves it). Every
#: ``source_*.py`` module of :mod:`sparft.curricula` is imported on the first lookup, so a
#: new source is one new file; entry points ``sparft.sources`` add one from outside.
SOURCES: Registry[Callable[..., Any]] = Registry(
    "data source",
    group="sparft.sources",
    listing="sparft plugins source",
    modules=("sparft.curricula", "source_"),
    alternatives="an existing .jsonl path, or OWNER/NAME for a Hugging Face dataset",
)
ON_ERROR = ("raise", "skip")
SPLIT_NAMES = ("train", "test", "validation", "val", "dev")
_FIELDS = ("question", "answer", "topic", "level", "solution", "id")
_CALC = re.compile(r"<<[^<>]*>>")

# GSM8K has no topic labels; a keyword heuristic gives tables something to show.
# It is recorded as ``meta["topic_source"] = "keywords"`` and is only a rough guide.
_TOPIC_KEYWORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("percent", re.compile(r"%|\bpercent", re.I)),
    ("ratios", re.compile(r"\b(half|halves|third|quarter|fraction|twice|double|triple)\b|/", re.I)),
    (
        "money",
        re.compile(
            r"\$|\b(dollars?|cents?|price|cost|costs|pay|paid|earn|earns|sells?|sold|buy|bought)\b",
            re.I,
        ),
    ),
    ("time", re.compile(r"\b(hours?|minutes?|seconds?|days?|weeks?|months?|years?)\b", re.I)),
    (
        "measures",
        re.compile(
            r"\b(miles?|feet|foot|inch(es)?|meters?|km|pounds?|kg|liters?|gallons?|ounces?)\b", re.I
        ),
    ),
)


@dataclass(frozen=True)
class RowError:
    """One malformed row: where it is and what is wrong."""

    file: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: field {self.field!r}: {self.reason}"


@dataclass
class LoadResult:
    """Examples of one split, plus the rows that were skipped (``on_error="skip"``)."""

    examples: list[Example]
    skipped: list[RowError] = field(default_factory=list)
    spec: str = ""
    split: str = "train"

    def summary(self) -> str:
        text = f"{len(self.examples)} examples from {self.spec} ({self.split})"
        if self.skipped:
            text += f"; skipped {len(self.skipped)} malformed rows (first: {self.skipped[0]})"
        return text


@dataclass(frozen=True)
class SourceSpec:
    """A parsed spec string."""

    kind: str
    arg: str | None
    options: Mapping[str, str]
    text: str


def parse_spec(spec: str) -> SourceSpec:
    """Split ``NAME[:ARG][,key=value...]`` and check the name; unknown names list the valid ones."""
    text = spec.strip()
    if not text:
        raise ValueError("empty data spec; use e.g. 'arith', 'gsm8k:PATH' or 'jsonl:PATH'")
    name, sep, rest = text.partition(":")
    kind = name.strip().lower()
    if kind not in SOURCES:
        # A bare path or hub id is allowed without a prefix.
        if Path(text).expanduser().suffix == ".jsonl" or Path(text).expanduser().is_file():
            return _with_options("jsonl", text, text)
        if "/" in text and ":" not in text and not text.startswith((".", "/", "~")):
            return _with_options("hf", text, text)
        raise ValueError(f"data spec {spec!r}: {SOURCES.unknown(kind)}")
    return _with_options(kind, rest if sep else "", text)


def _with_options(kind: str, rest: str, text: str) -> SourceSpec:
    arg = None
    options: dict[str, str] = {}
    for item in [p for p in rest.split(",") if p.strip()] if rest else []:
        if "=" in item:
            key, _, value = item.partition("=")
            key = key.strip()
            if key in options:
                raise ValueError(f"option {key!r} given twice in data spec {text!r}")
            options[key] = value.strip()
        elif arg is None:
            arg = item.strip()
        else:
            raise ValueError(
                f"data spec {text!r} has two paths ({arg!r}, {item.strip()!r}); give one"
            )
    return SourceSpec(kind=kind, arg=arg, options=options, text=text)


def _pop_int(options: dict[str, str], key: str, spec: str) -> int | None:
    if key not in options:
        return None
    value = options.pop(key)
    try:
        return int(value)
    except ValueError:
        raise ValueError(
            f"option {key}={value!r} in data spec {spec!r} must be an integer"
        ) from None


def reject_unknown(options: Mapping[str, str], valid: Iterable[str], spec: str) -> None:
    """Raise a ``ValueError`` naming the first option a source did not use, and the valid ones."""
    if options:
        key = next(iter(options))
        valid = sorted(valid)
        raise ValueError(
            f"unknown option {key!r} in data spec {spec!r}; valid: {', '.join(valid) or '(none)'}"
        )


# ----------------------------------------------------------------------------- public API
def load_source(
    spec: str, split: str = "train", seed: int = 0, on_error: str = "raise", n: int | None = None
) -> list[Example]:
    """The examples of ``split`` named by ``spec`` (see the module docstring).

    ``seed`` seeds the synthetic task and the ``n``-subset draw unless the spec
    sets its own ``seed=``; ``n`` caps the number of examples (the spec's ``n=``
    wins). Skipped rows are logged; use :func:`read_source` to get them back.
    """
    result = read_source(spec, split=split, seed=seed, on_error=on_error, n=n)
    if result.skipped:
        log.warning(result.summary())
    return result.examples


def read_source(
    spec: str, split: str = "train", seed: int = 0, on_error: str = "raise", n: int | None = None
) -> LoadResult:
    """Like :func:`load_source`, returning the skipped rows too."""
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
    parsed = parse_spec(spec)
    options = dict(parsed.options)
    spec_seed = _pop_int(options, "seed", spec)
    seed = spec_seed if spec_seed is not None else seed
    spec_n = _pop_int(options, "n", spec)
    n = spec_n if spec_n is not None else n
    if n is not None and n < 1:
        raise ValueError(f"n must be >= 1 in data spec {spec!r}, got {n}")

    loaded = SOURCES.get(parsed.kind)(parsed, options, split=split, seed=seed, n=n, on_error=on_error)
    result = loaded if isinstance(loaded, LoadResult) else LoadResult(list(loaded), split=split)
    result.spec = spec
    if not result.examples:
        raise ValueError(
            f"data source {spec!r} ({split}) has no usable examples"
            + (
                f"; all {len(result.skipped)} rows were malformed (first: {result.skipped[0]})"
                if result.skipped
                else ""
            )
        )
    if n is not None and n < len(result.examples):
        keep = np.sort(
            np.random.default_rng(seed).choice(len(result.examples), size=n, replace=False)
        )
        result.examples = [result.examples[i] for i in keep]
    return result


# ----------------------------------------------------------------------------- the sources
@SOURCES.register("arith")
def arith_source(
    parsed: SourceSpec, options: dict[str, str], *, split: str, seed: int, n: int | None, on_error: str
) -> list[Example]:
    """The synthetic task (:mod:`sparft.curricula.arith`): options seed, n, topics, levels."""
    del on_error
    if parsed.arg:
        raise ValueError(f"arith takes options only (arith:seed=3,n=500), not {parsed.arg!r}")
    kwargs: dict[str, Any] = {}
    if "topics" in options:
        kwargs["topics"] = tuple(t for t in re.split(r"[+|/ ]", options.pop("topics")) if t)
    if "levels" in options:
        kwargs["levels"] = _parse_levels(options.pop("levels"))
    reject_unknown(options, ["seed", "n", "topics", "levels"], parsed.text)
    split = "test" if split in ("validation", "val", "dev") else split
    return arith.generate(split, arith.ArithConfig(n=n, seed=seed, **kwargs))


@SOURCES.register("gsm8k", takes_path=True)
def gsm8k_source(
    parsed: SourceSpec, options: dict[str, str], *, split: str, seed: int, n: int | None, on_error: str
) -> LoadResult:
    """GSM8K: a jsonl file (question, answer ending in '#### N'), a folder of {split}.jsonl, or the hub's."""
    del seed, n
    reject_unknown(options, [], parsed.text)
    mapping = {"question": "question", "answer": "answer"}
    if parsed.arg:
        path = _resolve_path(parsed.arg, split, parsed.text)
        rows, source = _read_jsonl(path), str(path)
    else:
        rows, source = _read_hub("openai/gsm8k", "main", split, parsed.text)
    return _to_examples(rows, source, mapping, f"gsm8k/{split}", split, "gsm8k", on_error)


@SOURCES.register("jsonl", takes_path=True)
def jsonl_source(
    parsed: SourceSpec, options: dict[str, str], *, split: str, seed: int, n: int | None, on_error: str
) -> LoadResult:
    """Your own jsonl: options question=F, answer=F, topic, level, solution, id, answer_format."""
    del seed, n
    options.pop("config", None)  # a hub option, accepted (and unused) here too
    mapping, answer_format = _mapped_fields(parsed, options, "path")
    path = _resolve_path(parsed.arg, split, parsed.text)
    prefix = path.stem if path.stem not in SPLIT_NAMES else f"{path.parent.name}/{path.stem}"
    return _to_examples(_read_jsonl(path), str(path), mapping, prefix, split, "", on_error, answer_format)


@SOURCES.register("hf")
def hub_source(
    parsed: SourceSpec, options: dict[str, str], *, split: str, seed: int, n: int | None, on_error: str
) -> LoadResult:
    """Any Hugging Face dataset (network): hf:ID[,config=C], fields mapped as for jsonl."""
    del seed, n
    config = options.pop("config", None)
    mapping, answer_format = _mapped_fields(parsed, options, "dataset id")
    rows, source = _read_hub(parsed.arg, config, split, parsed.text)
    return _to_examples(rows, source, mapping, f"{parsed.arg}/{split}", split, "", on_error, answer_format)


def _mapped_fields(parsed: SourceSpec, options: dict[str, str], what: str) -> tuple[dict[str, str], str]:
    """The column mapping and answer format of a jsonl or hub spec (their options consumed)."""
    if not parsed.arg:
        raise ValueError(f"data spec {parsed.text!r} needs a {what}, e.g. {parsed.kind}:data.jsonl")
    mapping = {"question": "question", "answer": "answer"}
    for key in _FIELDS:
        if key in options:
            mapping[key] = options.pop(key)
    answer_format = options.pop("answer_format", "auto")
    if answer_format not in ("auto", "gsm8k", "number", "text"):
        raise ValueError(f"answer_format must be auto, gsm8k, number or text, got {answer_format!r}")
    reject_unknown(options, [*_FIELDS, "answer_format", "config", "n", "seed"], parsed.text)
    return mapping, answer_format


def _parse_levels(text: str) -> tuple[int, ...]:
    try:
        if "-" in text:
            lo, hi = text.split("-", 1)
            return tuple(range(int(lo), int(hi) + 1))
        return tuple(int(t) for t in re.split(r"[+|/ ]", text) if t)
    except ValueError:
        raise ValueError(f"levels={text!r}: write a range like 1-4 or a list like 1+3+5") from None


# ----------------------------------------------------------------------------- files and hub
def _resolve_path(arg: str, split: str, spec: str) -> Path:
    path = Path(arg).expanduser()
    if path.is_dir():
        candidate = path / f"{split}.jsonl"
        if not candidate.is_file():
            found = sorted(p.name for p in path.glob("*.jsonl"))
            raise FileNotFoundError(
                f"no {split}.jsonl in {path} (found: {', '.join(found) or 'no jsonl files'}); point the spec at a file"
            )
        return candidate
    if not path.is_file():
        raise FileNotFoundError(
            f"data file {path} does not exist (from spec {spec!r}); check the path"
        )
    if path.stem in SPLIT_NAMES and path.stem != split:
        sibling = path.with_name(f"{split}{path.suffix}")
        if not sibling.is_file():
            raise FileNotFoundError(
                f"asked for split {split!r} but {path} is the {path.stem!r} split and {sibling} does not exist"
            )
        return sibling
    return path


def _read_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed row or the JSON error) for each non-blank line."""
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                yield lineno, json.loads(line)
            except json.JSONDecodeError as e:
                yield lineno, e


def _read_hub(
    dataset_id: str, config: str | None, split: str, spec: str
) -> tuple[Iterator[tuple[int, Any]], str]:
    try:
        import datasets
    except ImportError as e:
        raise ValueError(
            f"spec {spec!r} needs the `datasets` package: pip install 'sparft[train]'"
        ) from e
    try:
        ds = datasets.load_dataset(dataset_id, config, split=split)
    except Exception as e:  # offline, unknown id, missing split: one line that says what to change
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ValueError(
            f"could not load hub dataset {dataset_id!r} (config={config}, split={split}): {first[:200]}; "
            "offline? use a local copy, e.g. gsm8k:PATH or jsonl:PATH"
        ) from e
    return ((i + 1, dict(row)) for i, row in enumerate(ds)), f"hf:{dataset_id}[{split}]"


# ----------------------------------------------------------------------------- rows -> examples
def gsm8k_topic(question: str) -> str:
    """A rough topic for a GSM8K question from keywords (``"counting"`` when none match)."""
    for name, pattern in _TOPIC_KEYWORDS:
        if pattern.search(question):
            return name
    return "counting"


def calc_steps(solution: str) -> int:
    """Calculation steps of a GSM8K solution: its ``<<a*b=c>>`` calculator annotations.

    Solutions without annotations (other datasets) count their non-empty lines
    before the ``####`` line instead.
    """
    n = len(_CALC.findall(solution))
    if n:
        return n
    body = solution.split("####")[0]
    return sum(1 for line in body.splitlines() if line.strip())


def _level_number(value: Any) -> float | None:
    """``3``, ``"3"``, ``"Level 3"`` -> 3.0; anything else -> None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if np.isfinite(value) else None
    m = re.search(r"-?\d+(?:\.\d+)?", str(value))
    return float(m.group()) if m else None


def _to_examples(
    rows: Iterable[tuple[int, Any]],
    source: str,
    mapping: Mapping[str, str],
    prefix: str,
    split: str,
    topic_default: str,
    on_error: str,
    answer_format: str = "gsm8k",
) -> LoadResult:
    examples: list[Example] = []
    skipped: list[RowError] = []
    seen_ids: set[str] = set()

    def bad(line: int, field_name: str, reason: str) -> None:
        err = RowError(os.fspath(source), line, field_name, reason)
        if on_error == "raise":
            raise ValueError(f"{err}; fix the row or load with on_error='skip' (--on-error skip)")
        skipped.append(err)

    for row_index, (line, row) in enumerate(rows):
        if isinstance(row, Exception):
            bad(line, "<json>", f"not valid JSON ({row.msg})")
            continue
        if not isinstance(row, Mapping):
            bad(line, "<row>", f"expected a JSON object, got {type(row).__name__}")
            continue
        qf, af = mapping["question"], mapping["answer"]
        if qf not in row:
            bad(line, qf, "missing")
            continue
        if af not in row or row[af] is None:
            bad(line, af, "missing")
            continue
        question = row[qf]
        if not isinstance(question, str) or not question.strip():
            bad(line, qf, "empty question")
            continue
        raw_answer = str(row[af]).strip()
        solution = (
            str(row[mapping["solution"]])
            if "solution" in mapping and mapping["solution"] in row
            else ""
        )
        fmt = answer_format
        if fmt == "auto":
            fmt = "gsm8k" if "####" in raw_answer else "text"
        if fmt == "gsm8k":
            if "####" not in raw_answer:
                bad(line, af, "no '#### N' final answer")
                continue
            solution = solution or raw_answer
            answer = extract_final_number(raw_answer.rsplit("####", 1)[1])
            if answer is None:
                bad(
                    line,
                    af,
                    f"no number after '####' ({raw_answer.rsplit('####', 1)[1].strip()[:30]!r})",
                )
                continue
        elif fmt == "number":
            answer = extract_final_number(raw_answer)
            if answer is None:
                bad(line, af, f"no number in {raw_answer[:30]!r}")
                continue
        else:
            answer = raw_answer
            if not answer:
                bad(line, af, "empty answer")
                continue
        level = None
        if "level" in mapping:
            if mapping["level"] not in row:
                bad(line, mapping["level"], "missing")
                continue
            level = _level_number(row[mapping["level"]])
            if level is None:
                bad(line, mapping["level"], f"not a number ({row[mapping['level']]!r})")
                continue
        if "id" in mapping and mapping["id"] in row:
            ex_id = f"{prefix}/{row[mapping['id']]}"
        else:
            ex_id = f"{prefix}/{row_index}"
        if ex_id in seen_ids:
            bad(line, mapping.get("id", "id"), f"duplicate id {ex_id!r}")
            continue
        seen_ids.add(ex_id)
        meta: dict[str, Any] = {
            "question": question.strip(),
            "split": split,
            "source": os.fspath(source),
            "line": line,
        }
        if solution:
            meta["solution"] = solution
            meta["calc_steps"] = calc_steps(solution)
        if "topic" in mapping and mapping["topic"] in row:
            topic = str(row[mapping["topic"]])
            meta["topic_source"] = "label"
        elif topic_default == "gsm8k":
            topic = gsm8k_topic(question)
            meta["topic_source"] = "keywords"
        else:
            topic = topic_default
        if level is not None:
            meta["level"] = level
        examples.append(
            Example(
                id=ex_id,
                prompt=answer_prompt(question),
                answer=answer,
                topic=topic,
                difficulty=level,
                meta=meta,
            )
        )
    return LoadResult(examples=examples, skipped=skipped, split=split)
