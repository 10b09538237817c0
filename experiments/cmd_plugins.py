"""List the plugins of every kind: what a name in a config or a command may be.

Every kind of plugin is one registry (:class:`sparft.registry.Registry`); a plugin is
added by one new file in the kind's folder, by an entry point of an installed package
(group ``sparft.<kind>s``), or named as ``package.module:Attr``.

examples:
  sparft plugins                    # every kind, its names and their one-line summaries
  sparft plugins learner            # one kind, with the hyperparameters of each
  sparft plugins source hf          # just these
  sparft plugins --json             # machine-readable
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any

HELP = "list every kind of plugin (bandits, strategies, signals, sources, learners, ...)"

#: kind -> (module, registry attribute), in the order of a config file's journey.
KINDS = {
    "source": ("sparft.curricula.sources", "SOURCES"),
    "preset": ("sparft.envs.presets", "PRESETS"),
    "learner": ("sparft.experiments.learners", "LEARNERS"),
    "strategy": ("sparft.curricula.teachers", "STRATEGIES"),
    "bandit": ("sparft.bandits", "REGISTRY"),
    "signal": ("sparft.curricula.signals", "SIGNALS"),
    "rescaler": ("sparft.curricula.rescaling", "RESCALERS"),
    "executor": ("sparft.experiments.executors", "EXECUTORS"),
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", nargs="?", help=f"one kind: {', '.join(KINDS)} (default: all)")
    p.add_argument(
        "names", nargs="*", metavar="NAME", help="plugins of that kind to show (default: all)"
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a text listing")


def registry(kind: str) -> Any:
    """The registry of ``kind`` (one of :data:`KINDS`)."""
    if kind not in KINDS:
        from sparft.experiments.typed import closest

        guess = closest(kind, list(KINDS))
        hint = f"did you mean {guess!r}? " if guess else ""
        raise ValueError(f"unknown kind of plugin {kind!r}: {hint}valid kinds: {', '.join(KINDS)}")
    module, attr = KINDS[kind]
    return getattr(importlib.import_module(module), attr)


def run(args: argparse.Namespace) -> int:
    kinds = [args.kind] if args.kind else list(KINDS)
    if args.names and not args.kind:
        raise ValueError("give the kind before the names, e.g. sparft plugins learner grpo")
    listed = {k: registry(k) for k in kinds}
    rows = {k: reg.describe(args.names or None) for k, reg in listed.items()}
    if args.json:
        json.dump(rows, sys.stdout, indent=1, default=str)
        sys.stdout.write("\n")
        return 0
    detailed = bool(args.kind)
    for kind, reg in listed.items():
        print(f"{reg.plural} ({kind}; entry points: {reg.group})")
        width = max([len(r["name"]) for r in rows[kind]] + [8])
        for r in rows[kind]:
            text = f"(failed to load: {r['error']})" if "error" in r else r.get("summary", "")
            print(f"  {r['name']:<{width}}  {text}")
            if detailed:
                for p in r.get("params", []) or r.get("hyperparameters", []):
                    print(
                        f"  {'':<{width}}    {p['name']} = {p.get('default')!r}  -- {p.get('help', '')}"
                    )
        print()
    return 0
