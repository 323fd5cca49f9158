"""Make the README's pictures from the real product: the console demo's own output and chart.

    .venv/bin/python docs/pictures.py        # writes docs/console.png and docs/chart.png

Runs `replenish demo` in a temporary folder with a few scripted lines, records what the
console printed, and draws the end of it as a terminal would (a monospace cell grid, wide
characters in two cells, rich's colours) with the fonts the project ships: DejaVu Sans Mono
(matplotlib's) for Latin and Noto Sans TC for Chinese. No browser or SVG converter needed.
"""

import io
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import matplotlib
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont
from rich.cells import cell_len
from rich.console import Console
from rich.style import Style
from rich.text import Text

from bot.demo import open_demo
from bot.demo_input import EchoedLines

HERE = Path(__file__).resolve().parent
SCRIPT = ["/as manager", "po pending", "/as clerk", "stock MLK-028"]
WIDTH, SHOWN_LINES = 100, 46  # terminal columns; the last lines of the session are drawn
CELL_W, CELL_H, FONT_SIZE, MARGIN = 10, 21, 17, 16
BACKGROUND, FOREGROUND = (30, 30, 36), (220, 220, 220)


def record_session(folder: Path) -> tuple[list[Text], Path | None]:
    screen = io.StringIO()  # the session reads its record buffer itself: keep our own copy
    console = Console(
        record=True, width=WIDTH, file=screen, force_terminal=True, color_system="truecolor"
    )
    session = open_demo(folder, "zh-TW", console, EchoedLines(SCRIPT, console), interactive=False)
    session.run()
    lines = Text.from_ansi(screen.getvalue()).split("\n")
    charts = sorted((folder / "files").glob("*.png"), key=lambda p: p.stat().st_mtime)
    return list(lines), (charts[-1] if charts else None)


@dataclass(frozen=True)
class Face:
    font: ImageFont.FreeTypeFont
    chars: frozenset[int]  # what it has a glyph for (emoji are in neither: left blank)


def face(path: str) -> Face:
    with TTFont(path, lazy=True) as font:
        chars = frozenset(font.getBestCmap())
    return Face(ImageFont.truetype(path, FONT_SIZE), chars)


def fonts() -> tuple[Face, Face]:
    mono = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSansMono.ttf"
    cjk = files("pylopdf_fonts_zh_tw") / "NotoSansTC-Regular.otf"
    return face(str(mono)), face(str(cjk))


def draw(lines: list[Text], target: Path) -> None:
    mono, cjk = fonts()
    size = (WIDTH * CELL_W + 2 * MARGIN, len(lines) * CELL_H + 2 * MARGIN)
    image = Image.new("RGB", size, BACKGROUND)
    pen = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        column = 0
        for segment in line.render(Console(width=10_000)):
            colour, bold = _colour(segment.style)
            for char in segment.text:
                cells = cell_len(char)
                x, y = MARGIN + column * CELL_W, MARGIN + row * CELL_H
                use = mono if cells == 1 and ord(char) in mono.chars else cjk
                if ord(char) in use.chars:
                    for dx in (0, 1) if bold else (0,):  # bold: drawn twice, a pixel apart
                        pen.text((x + dx, y), char, font=use.font, fill=colour)
                column += cells
    image.save(target, optimize=True)


def _colour(style: Style | None) -> tuple[tuple[int, int, int], bool]:
    if style is None or style.color is None:
        return FOREGROUND, bool(style and style.bold)
    rgb = style.color.get_truecolor()
    return (rgb.red, rgb.green, rgb.blue), bool(style.bold)


def main() -> None:
    with tempfile.TemporaryDirectory() as temporary:
        os.chdir(temporary)  # the picture shows demo/files/…, as a user's would
        lines, chart = record_session(Path("demo"))
        while lines and not lines[-1].plain.strip():
            lines.pop()
        draw(lines[-SHOWN_LINES:], HERE / "console.png")
        if chart is not None:
            shutil.copyfile(chart, HERE / "chart.png")
    print(f"wrote {HERE / 'console.png'}" + (f" and {HERE / 'chart.png'}" if chart else ""))


if __name__ == "__main__":
    main()
