"""The course's licence and version in the footer of every page.

The version is read from ``pyproject.toml`` (the one place it is written), so the site, the wheel and the changelog
cannot disagree.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from sphinx.application import Sphinx

LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"


def course_version(root: Path) -> str:
    """The version in ``root/pyproject.toml``."""
    with (root / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)["project"]["version"]


def _footer(app: Sphinx, config) -> None:
    version = course_version(Path(app.confdir))
    footer = (
        f"<p>Step Size Matters, version {version}. The course content is licensed under "
        f'<a href="{LICENCE_URL}">CC BY 4.0</a>; the code (<code>lecturelib</code>, the notebooks\' code cells) '
        "under the MIT licence.</p>"
    )
    config.html_theme_options = {**(config.html_theme_options or {}), "extra_footer": footer}
    config.version = config.release = version


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _footer)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
