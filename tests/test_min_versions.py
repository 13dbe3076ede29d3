"""The floors in pyproject.toml are the versions the minimum-versions job installs.

``.ci/run-min`` (``make test-min``) runs the suite with ``.ci/constraints-min.txt``; this
keeps that file and pyproject.toml from drifting apart: every dependency (core, every
extra, the build backend) has one ``>=`` floor and exactly that version pinned, and the
file pins nothing else above its hand-kept transitive part
(regenerate with ``python scripts/min_constraints.py``).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / ".ci" / "constraints-min.txt"
MARKER = "# --- transitive pins (not our dependencies; kept by hand) ---"


def _declared() -> list[tuple[str, Requirement]]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    out = [("build-system", Requirement(r)) for r in data["build-system"]["requires"]]
    out += [("dependencies", Requirement(r)) for r in data["project"]["dependencies"]]
    for extra, reqs in data["project"]["optional-dependencies"].items():
        out += [(f"[{extra}]", Requirement(r)) for r in reqs]
    return out


def _pins(text: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        (spec,) = req.specifier  # one exact pin per line
        assert spec.operator == "==", line
        assert canonicalize_name(req.name) not in pins, f"{req.name} pinned twice"
        pins[canonicalize_name(req.name)] = spec.version
    return pins


def test_every_floor_is_pinned_in_the_min_constraints() -> None:
    text = CONSTRAINTS.read_text(encoding="utf-8")
    assert MARKER in text
    direct_part, _, transitive_part = text.partition(MARKER)
    pins, transitive = _pins(direct_part), _pins(transitive_part)

    floors: dict[str, str] = {}
    for where, req in _declared():
        lows = [s.version for s in req.specifier if s.operator == ">="]
        assert len(lows) == 1, f"{where} {req}: needs one >= floor (tested by make test-min)"
        key = canonicalize_name(req.name)
        assert floors.setdefault(key, lows[0]) == lows[0], f"{req.name}: two floors"
        assert pins.get(key) == lows[0], (
            f"{where} {req}: .ci/constraints-min.txt pins {req.name}=={pins.get(key)}, "
            "not the floor; run python scripts/min_constraints.py"
        )
    assert set(pins) == set(floors), f"pinned but not a dependency: {set(pins) - set(floors)}"
    assert not set(transitive) & set(floors), "a dependency among the transitive pins"
