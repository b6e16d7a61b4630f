"""Scanned pages made in the tests: known Chinese text drawn on an image (Pillow, WenQuanYi
Zen Hei from Debian's fonts-wqy-zenhei, which `make test` installs with the browser), then
put into a PDF as a picture with no text layer (reportlab) — what a 盖章扫描件 is."""

from __future__ import annotations

import io
import random
from pathlib import Path

FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
DPI = 150
A4 = (round(8.27 * DPI), round(11.69 * DPI))  # 1240 × 1754 pixels


def _wrap(draw, text: str, font, width: int) -> list[str]:  # type: ignore[no-untyped-def]
    lines, line = [], ""
    for ch in text:
        if draw.textlength(line + ch, font=font) > width:
            lines.append(line)
            line = ch
        else:
            line += ch
    return lines + ([line] if line else [])


def page_image(
    paragraphs: list[str],
    *,
    title: str = "",
    header: str = "",
    number: str = "",
    footer: str = "",
    columns: int = 1,
    noise: bool = True,
    seed: int = 1,
):  # type: ignore[no-untyped-def]
    """A white A4 page at 150 dpi with the text in black (a red header line when given),
    in one or two columns, with a little scanner noise and a tilt-free grey stamp."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    width, height = A4
    img = Image.new("RGB", A4, "white")
    draw = ImageDraw.Draw(img)
    body = ImageFont.truetype(FONT, 30)
    big = ImageFont.truetype(FONT, 44)
    margin, y = 120, 110
    if header:
        w = draw.textlength(header, font=big)
        draw.text(((width - w) / 2, y), header, font=big, fill=(200, 20, 20))
        y += 90
    if number:  # the 文号 under the red header, above a red rule
        w = draw.textlength(number, font=body)
        draw.text(((width - w) / 2, y), number, font=body, fill="black")
        y += 50
        draw.line((margin, y, width - margin, y), fill=(200, 20, 20), width=3)
        y += 40
    if title:
        for line in _wrap(draw, title, big, width - 2 * margin):
            w = draw.textlength(line, font=big)
            draw.text(((width - w) / 2, y), line, font=big, fill="black")
            y += 64
        y += 20
    gutter = 60
    col_width = (width - 2 * margin - (columns - 1) * gutter) // columns
    top = y
    col = 0
    for para in paragraphs:
        for line in _wrap(draw, "　　" + para, body, col_width):
            if y > height - 160:
                col += 1
                y = top
            x = margin + col * (col_width + gutter)
            draw.text((x, y), line, font=body, fill="black")
            y += 46
        y += 8
    if footer:
        w = draw.textlength(footer, font=body)
        draw.text(((width - w) / 2, height - 100), footer, font=body, fill="black")
    if noise:
        rng = random.Random(seed)
        for _ in range(400):
            px, py = rng.randrange(width), rng.randrange(height)
            draw.point((px, py), fill=(rng.randrange(120, 220),) * 3)
        img = img.filter(ImageFilter.GaussianBlur(0.4))
    return img


def scanned_pdf(
    path: Path,
    pages: list,  # type: ignore[type-arg]
    text_pages: dict[int, list[str]] | None = None,
    overlay: dict[int, str] | None = None,
) -> Path:
    """A PDF whose pages are the given images, with no text layer; `text_pages` (index →
    lines) puts an ordinary text page there instead (a mixed file); `overlay` (index → line)
    types a line of real text over a page's picture, as scanning software stamps a caption."""
    from reportlab.lib.pagesizes import A4 as A4_POINTS
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path), pagesize=A4_POINTS)
    w, h = A4_POINTS
    forms: dict[int, str] = {}  # the same image on many pages is stored once
    for i, img in enumerate(pages):
        if text_pages and i in text_pages:
            c.setFont("STSong-Light", 12)
            y = h - 72
            for line in text_pages[i]:
                c.drawString(72, y, line)
                y -= 20
        elif img is not None:
            if id(img) not in forms:
                forms[id(img)] = f"scan{len(forms)}"
                buf = io.BytesIO()
                img.convert("L").save(buf, format="PNG")
                buf.seek(0)
                c.beginForm(forms[id(img)])
                c.drawImage(ImageReader(buf), 0, 0, width=w, height=h)
                c.endForm()
            c.doForm(forms[id(img)])
            if overlay and i in overlay:
                c.setFont("STSong-Light", 9)
                c.drawString(36, 12, overlay[i])
        c.showPage()
    c.save()
    return path
