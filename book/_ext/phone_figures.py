"""Figures drawn for phones: each notebook figure that has a phone layout is served to narrow screens as such.

A chapter's figure is drawn for the 688 px column of a wide screen; shrunk into a phone's 342 px column, its text
would be half the size of the page's small text. So ``lecturelib.plots.use_course_style`` draws every figure twice:
as laid out by the chapter, and in its phone layout (its panels stacked in one column, drawn for the phone's width:
``lecturelib.plots.stack_for_phone``), which travels inside the figure's PNG (``lecturelib.plots.phone_png``).

The build asks for the phone layouts (``LECTURELIB_PHONE_FIGURES=1`` in the environment the notebooks' kernels start
from, before any is executed), whatever its builder, so that the shared execution cache holds the same outputs for
the website and the PDF. The HTML builder takes the two apart:
the phone layout is written beside the figure in ``_images/`` and the figure becomes a ``<picture>`` whose
``<source>`` serves it to screens at most ``PHONE_SCREEN`` px wide, at its
drawn size (``2x``: drawn at twice the CSS pixels); wider screens get the figure as before. When the build has
finished, the chunk is taken out of the published PNGs, so a wide screen downloads only what it shows. The LaTeX
builder leaves the figures alone (TeX ignores the chunk, and the PDF shows the wide layout). The sliders' frames
have their phone frames in their own markup (``lecturelib.explorable``).
"""

from __future__ import annotations

import os
import posixpath
import urllib.parse
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx

from lecturelib.plots import PHONE_FIGURES_ENV, PHONE_SCREEN, split_phone_png

_SUFFIX = "-phone.png"


def _phone_of(source: str) -> bytes | None:
    if not source.lower().endswith(".png") or not os.path.isfile(source):
        return None
    with open(source, "rb") as file:
        data = file.read()
    try:
        return split_phone_png(data)[1]
    except ValueError:  # not a whole PNG file: not one of the notebooks' figures
        return None


def visit_image(self, node: nodes.image) -> None:
    uri = node["uri"]
    phone = None
    if uri in self.builder.images:
        phone = _phone_of(os.path.join(self.builder.srcdir, uri))
    if phone is not None:
        name = Path(self.builder.images[uri]).stem + _SUFFIX
        target = Path(self.builder.outdir) / self.builder.imagedir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_bytes() != phone:
            target.write_bytes(phone)
        width, height = (int.from_bytes(phone[at : at + 4], "big") // 2 for at in (16, 20))  # IHDR, drawn at 2x
        src = posixpath.join(self.builder.imgpath, urllib.parse.quote(name))
        self.body.append(
            f'<picture class="course-phone-figure"><source media="(max-width: {PHONE_SCREEN}px)" '
            f'srcset="{src} 2x" width="{width}" height="{height}">'
        )
        node["course_phone"] = True
    type(self).visit_image(self, node)


def depart_image(self, node: nodes.image) -> None:
    type(self).depart_image(self, node)
    if node.get("course_phone"):
        self.body.append("</picture>")


def _strip_published(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    folder = Path(app.builder.outdir) / app.builder.imagedir
    for png in folder.glob("*.png") if folder.is_dir() else ():
        data = png.read_bytes()
        wide, phone = split_phone_png(data) if data.startswith(b"\x89PNG") else (data, None)
        if phone is not None:
            png.write_bytes(wide)


def _ask_for_phone_layouts(app: Sphinx, config) -> None:
    # The notebooks' kernels start from this process's environment: their figures carry phone layouts. Every
    # builder asks, so that the execution cache (shared by the website and the PDF builds) holds the same outputs
    # whichever build ran first; TeX skips the chunk.
    os.environ[PHONE_FIGURES_ENV] = "1"


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _ask_for_phone_layouts)
    app.add_node(nodes.image, override=True, html=(visit_image, depart_image))
    app.connect("build-finished", _strip_published)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
