"""``gui`` sub-command: start the desktop app (Qt is imported only when it runs)."""

from __future__ import annotations

from pathlib import Path

import click

from coverage_gis.cli import cli


@cli.command()
@click.option("--demo", is_flag=True, help="打开内置苏州示例 / open the embedded Suzhou demo")
@click.option(
    "--project",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="打开项目文件 / open a project file",
)
@click.option(
    "--screenshot",
    type=click.Path(dir_okay=False, path_type=Path),
    help="地图绘出后保存主窗口截图并退出 / save a PNG of the main window once the map is drawn, then exit",
)
@click.option("--lang", type=click.Choice(["zh", "en"]), help="界面语言 / UI language")
def gui(demo: bool, project: Path | None, screenshot: Path | None, lang: str | None) -> None:
    """打开桌面程序 / Start the desktop app."""
    from coverage_gis.gui.app import run  # lazy: `coverage-gis audit` never loads Qt

    code = run(demo=demo, project=project, screenshot=screenshot, lang=lang)
    if code:
        raise click.exceptions.Exit(code)
