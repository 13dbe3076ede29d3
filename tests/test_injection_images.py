"""Charts and the static map: names with ``$…$`` are drawn as text, not matplotlib mathtext.

A county or indicator called ``$\\frac{x$`` made matplotlib's mathtext parser raise while
drawing, so the chart, and with it the whole Excel report, failed.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest

from coverage_gis.cli import main
from coverage_gis.core.catalog import load_catalog
from coverage_gis.core.results import AuditResult
from coverage_gis.export.charts import write_charts
from coverage_gis.mapexport import export_static_map
from coverage_gis.workflow import load_inputs, run_audit
from tests import hostile_inputs as hi

MATH = r"$\frac{x$ 区 $x^2$"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def hostile(tmp_path: Path) -> hi.HostileInputs:
    h = hi.write_hostile_inputs(tmp_path / "in")
    units = gpd.read_file(h.boundaries)
    units.loc[units["county"] == hi.COUNTY_NAMES["甲区"], "county"] = MATH
    units.loc[units["code"] == "320501001", "name"] = "$\\$" + hi.HYPERLINK
    units.to_file(h.boundaries, driver="GeoJSON")
    return h


@pytest.fixture
def result(hostile: hi.HostileInputs) -> AuditResult:
    inputs = load_inputs(hostile.boundaries, [hostile.facilities])
    return run_audit(inputs, load_catalog(hostile.catalog), "2025-12-31")


def test_charts_draw_dollar_names_as_text(result: AuditResult, tmp_path: Path) -> None:
    assert MATH in set(result.units["county"])
    charts = write_charts(result, tmp_path / "charts")
    assert [p.name for p in charts] == [
        "A-1.png",
        "_.._A-2_img_src_x_onerror_window.__pwned_6_.png",
    ]
    assert all(p.read_bytes()[:8] == PNG for p in charts)


@pytest.mark.filterwarnings("ignore:Glyph 82(32|33) .* missing from font")  # U+2028/9 in a name
def test_static_map_draws_dollar_names_as_text(result: AuditResult, tmp_path: Path) -> None:
    path = export_static_map(result, tmp_path / "map.png", indicator="A-1", title=MATH)
    assert path.read_bytes()[:8] == PNG


def test_excel_report_with_dollar_names(hostile: hi.HostileInputs, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = [
        "-b",
        str(hostile.boundaries),
        "-f",
        str(hostile.facilities),
        "-c",
        str(hostile.catalog),
    ]
    assert main(["audit", *args, "--format", "xlsx", "--out", str(out), "--quiet"]) == 0
    assert (out / "coverage_report.xlsx").exists() and (out / "charts" / "A-1.png").exists()
