"""Charts by county and the one-page e-mail summary."""

from __future__ import annotations

import re

import matplotlib
import pytest

from coverage_gis import fonts
from coverage_gis.core.catalog import load_catalog
from coverage_gis.core.engine import audit
from coverage_gis.core.results import AuditResult
from coverage_gis.export.charts import default_chart_indicators, indicator_county_chart
from coverage_gis.export.report_tables import county_ranking
from coverage_gis.export.summary import write_summary
from tests.conftest import fac_rows, make_units
from tests.test_export_xlsx import small_result

PNG = b"\x89PNG\r\n\x1a\n"
XSS_UNIT = "<script>alert('u')</script>镇"
XSS_COUNTY = '<img src=x onerror="alert(1)">区'
XSS_FACILITY = "<b onmouseover=alert(2)>骨灰堂</b>"


@pytest.fixture(scope="module")
def result() -> AuditResult:
    return small_result()


@pytest.fixture(scope="module")
def xss_result() -> AuditResult:
    units = make_units()
    units.loc[units["code"] == "320502101", "name"] = XSS_UNIT  # 丁桥镇, has no ashes facility
    units.loc[units["county_code"] == "320502", "county"] = XSS_COUNTY
    fac = fac_rows(
        {"name": XSS_FACILITY, "type_raw": "骨灰堂", "lon": 120.05, "lat": 31.05},
        {"name": "x", "type_raw": XSS_FACILITY, "lon": 120.05, "lat": 31.05},  # unknown type
    )
    return audit(units, fac, load_catalog(), "2025-01-01")


def test_chart_is_a_png_per_indicator(result, tmp_path):
    before = list(matplotlib.rcParams["font.sans-serif"])
    for ind in ("T2-19", "T2-8", "T2-6", "T1-beds-per-1000"):
        p = indicator_county_chart(result, ind, tmp_path / "c" / f"{ind}.png")
        assert p.read_bytes()[:8] == PNG and p.stat().st_size > 5000
    assert matplotlib.rcParams["font.sans-serif"] == before  # global settings untouched


def test_chart_refuses_unknown_and_manual_indicators(result, tmp_path):
    with pytest.raises(KeyError):
        indicator_county_chart(result, "nope", tmp_path / "x.png")
    with pytest.raises(ValueError, match="T2-2"):
        indicator_county_chart(result, "T2-2", tmp_path / "x.png")


def test_default_charts_are_the_binding_presence_indicators(result):
    ids = default_chart_indicators(result)
    want = [
        r.indicator.id
        for r in result.indicators
        if r.indicator.kind == "presence" and r.indicator.binding
    ]
    assert ids == want and {"T2-4", "T2-5", "T2-8", "T2-9", "T2-19"} <= set(ids)


def test_chart_without_a_chinese_font_warns_and_still_writes(result, tmp_path, monkeypatch):
    monkeypatch.setattr(fonts, "find_cjk_font", lambda: None)
    with pytest.warns(fonts.CJKFontWarning, match="fonts-noto-cjk"):
        p = indicator_county_chart(result, "T2-19", tmp_path / "nofont.png")
    assert p.read_bytes()[:8] == PNG


def test_summary_names_every_binding_unmet_indicator(result, tmp_path):
    md, page = write_summary(result, tmp_path)
    assert (md.name, page.name) == ("summary.md", "summary.html")
    text, html_text = md.read_text("utf-8"), page.read_text("utf-8")
    unmet = [r for r in result.indicators if r.indicator.binding and r.met is False]
    assert unmet
    table = text.split("## 未达标的约束性指标")[1].split("##")[0]
    html_table = html_text.split("未达标的约束性指标")[1].split("<h2>")[0]
    for r in unmet:
        assert f"| {r.indicator.id} | {r.indicator.name_zh} |" in table
        assert f"<td>{r.indicator.id}</td><td>{r.indicator.name_zh}</td>" in html_table
    others = [r for r in result.indicators if not (r.indicator.binding and r.met is False)]
    for r in others:
        assert f"| {r.indicator.id} |" not in table
        assert f"<td>{r.indicator.id}</td>" not in html_table
    pending = [r for r in result.indicators if r.indicator.binding and r.status == "manual_missing"]
    for r in pending:
        assert r.indicator.name_zh in text
    # headline numbers
    assert f"读取 {result.rows_read} 行" in text
    # the county furthest behind is named first
    worst = county_ranking(result).iloc[0]["county"]
    behind = text.split("## 差距最大的区县")[1]
    assert f"1. **{worst}**" in behind
    assert "示意边界，非法定界线" in text and "示意边界，非法定界线" in html_text


def test_summary_html_escapes_data_and_is_self_contained(xss_result, tmp_path):
    md, page = write_summary(xss_result, tmp_path)
    html_text = page.read_text("utf-8")
    assert xss_result.indicator("T2-19").met is False
    assert "&lt;script&gt;alert(&#x27;u&#x27;)&lt;/script&gt;镇" in html_text
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;区" in html_text
    for raw in (XSS_UNIT, XSS_COUNTY, XSS_FACILITY, "<script", "<img", "onmouseover=alert"):
        assert raw not in html_text
    # self-contained: no scripts, external links, images or fonts
    assert not re.search(
        r"(?i)<(script|link|img|iframe|object)\b|<[^>]*\b(src|href)=|@import|url\(", html_text
    )
    assert "http://" not in html_text and "https://" not in html_text
    text = md.read_text("utf-8")
    assert "<script>" not in text and r"\<script\>" in text
