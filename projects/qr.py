"""QR codes of a page's public address, drawn on the server as SVG (segno: pure Python, no image
library): the founder prints it on a flyer or a slide and people land on the page."""

import io

import segno

# Medium error correction survives a smudged print; the quiet zone is the standard's four modules.
ERROR_CORRECTION = "m"
BORDER_MODULES = 4
SCALE = 8  # user units per module: a sensible size when the SVG is opened on its own


def qr_svg(url: str, *, title: str) -> bytes:
    """The QR code of `url` as a standalone SVG document, `title` as its accessible name."""
    code = segno.make(url, error=ERROR_CORRECTION, micro=False)
    out = io.BytesIO()
    code.save(
        out,
        kind="svg",
        scale=SCALE,
        border=BORDER_MODULES,
        dark="#111111",
        light="#ffffff",
        xmldecl=True,
        svgns=True,
        title=title,
        nl=True,
    )
    # A viewBox beside the size, so the picture scales when a page or a print sets another size.
    width, height = code.symbol_size(scale=SCALE, border=BORDER_MODULES)
    return out.getvalue().replace(b"<svg ", f'<svg viewBox="0 0 {width} {height}" '.encode(), 1)
