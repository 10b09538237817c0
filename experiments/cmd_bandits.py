"""List the registered bandit algorithms: hyperparameters, defaults, reward range, description.

    sparft bandits                 every algorithm, built in or from a plugin
    sparft bandits ucb1 exp3       just these
    sparft bandits --json          the same as JSON (for scripts)

Make one with ``sparft.bandits.make(name, n_arms, seed=..., **hyperparameters)``.
"""

from __future__ import annotations

import json
import shutil
import textwrap

HELP = "list the bandit algorithms with their hyperparameters and defaults"


def add_arguments(parser) -> None:
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="algorithms to show (default: all registered ones)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _value(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _rewards(lo: float, hi: float) -> str:
    if (lo, hi) == (0.0, 1.0):
        return "[0, 1]"
    if lo == -hi:
        return f"|r| <= {hi:g}".replace("e+", "e")
    return f"[{lo:g}, {hi:g}]".replace("e+", "e")


def table(descriptions: list[dict], width: int = 100) -> str:
    """The human-readable listing of ``describe()`` entries."""
    name_w = max([len("algorithm")] + [len(d["name"]) for d in descriptions]
                 + [len(p["name"]) + 2 for d in descriptions for p in d.get("hyperparameters", [])])
    default_w = max([len("default")] + [len(_value(p["default"])) for d in descriptions
                                        for p in d.get("hyperparameters", [])])
    reward_w = len("rewards") + 5
    lead = name_w + default_w + reward_w + 6
    wrap_w = max(30, width - lead)

    def line(name, default, rewards, text):
        chunks = textwrap.wrap(text, wrap_w) or [""]
        first = f"{name:<{name_w}}  {default:<{default_w}}  {rewards:<{reward_w}}  {chunks[0]}"
        rest = [" " * lead + c for c in chunks[1:]]
        return "\n".join([first.rstrip(), *rest])

    out = [line("algorithm", "default", "rewards", "description"),
           line("  hyperparameter", "", "", "help"), "-" * min(width, lead + wrap_w)]
    for d in descriptions:
        if "error" in d:
            out.append(line(d["name"], "", "", f"(failed to load: {d['error']})"))
            continue
        out.append(line(d["name"], "", _rewards(*d["reward_range"]), d["summary"]))
        params = d["hyperparameters"]
        if not params:
            out.append(line("  (none)", "", "", ""))
        for p in params:
            out.append(line(f"  {p['name']}", _value(p["default"]), "", p["help"]))
    return "\n".join(out)


def run(args) -> int:
    from sparft import bandits

    # Named algorithms that are unknown raise; in the full listing a broken plugin is a
    # row with its error, so that it does not hide the others.
    descriptions = bandits.REGISTRY.describe(args.names or None)
    if args.json:
        print(json.dumps(descriptions, indent=2))
    else:
        print(table(descriptions, shutil.get_terminal_size((100, 24)).columns))
        print("\nmake one: sparft.bandits.make(name, n_arms, seed=..., **hyperparameters)")
    return 0
