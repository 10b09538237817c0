"""List the curriculum strategies (teachers) with their hyperparameters.

Each strategy is named in a config as ``strategy: NAME`` (with ``params:``);
any registered bandit can also be composed with any registered signal as
``strategy: BANDIT+SIGNAL`` or ``{bandit: ..., signal: ...}``.

examples:
  sparft strategies                 # every strategy, its source and parameters
  sparft strategies sparft adarft   # just these, with their full description
  sparft strategies --json          # machine-readable
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from typing import Any

HELP = "list the curriculum strategies (teachers), their sources and hyperparameters"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="*", metavar="NAME", help="strategies to show (default: all)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a text listing")


def _fmt_default(value: Any) -> str:
    if isinstance(value, dict):
        return json.dumps(value) if value else "{}"
    return repr(value)


def _sweep(spec: dict[str, Any]) -> str:
    if "choices" in spec:
        return " choices: " + ", ".join(map(str, spec["choices"]))
    if spec.get("low") is not None and spec.get("high") is not None:
        scale = ", log" if spec.get("log") else ""
        return f" sweep: [{spec['low']:g}, {spec['high']:g}{scale}]"
    return ""


def run(args: argparse.Namespace) -> int:
    from sparft import bandits
    from sparft.curricula import signals, teachers

    described = teachers.STRATEGIES.describe(args.names or None)  # unknown names: one-line error
    if args.json:
        out = {
            "strategies": described,
            "compose": {"bandits": bandits.available(), "signals": signals.available()},
        }
        json.dump(out, sys.stdout, indent=1, default=str)
        sys.stdout.write("\n")
        return 0
    detailed = bool(args.names)
    for d in described:
        if "error" in d:  # a broken plugin must not hide the others
            print(f"{d['name']:<15} (failed to load: {d['error']})\n")
            continue
        print(f"{d['name']:<15} {'[' + d['action_mode'] + ']':<11} {d['summary']}")
        if detailed:
            doc = teachers.get(d["name"]).__module__
            text = sys.modules[doc].__doc__ or ""
            print(textwrap.indent(text.strip(), "    | "))
        for spec in d["params"]:
            help_text = spec.get("help", "")
            print(f"    {spec['name']} = {_fmt_default(spec['default'])}  -- {help_text}{_sweep(spec)}")
        print()
    print(
        "compose any bandit with any signal: strategy: BANDIT+SIGNAL or {bandit: ..., signal: ...}\n"
        f"  bandits: {', '.join(bandits.available())}\n"
        f"  signals: {', '.join(signals.available())}"
    )
    return 0
