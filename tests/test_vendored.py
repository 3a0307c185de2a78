"""The browser libraries served from static/vendor/ are the versions package.json pins, with their licences."""

import json
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PANZOOM = ROOT / "static" / "vendor" / "panzoom"


def test_the_vendored_panzoom_is_the_version_package_json_pins_with_its_licence():
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["@panzoom/panzoom"]
    locked = json.loads((ROOT / "package-lock.json").read_text())["packages"]["node_modules/@panzoom/panzoom"]
    assert locked["version"] == pinned
    vendored = (PANZOOM / "panzoom.min.js").read_bytes()
    assert f"Panzoom {pinned} for panning and zooming".encode() in vendored[:200]
    assert "Permission is hereby granted, free of charge" in (PANZOOM / "LICENSE").read_text()
    # Where `npm ci` has installed the package (CI's .ci/browser-deps does), the copy is its file byte for byte.
    installed = ROOT / "node_modules" / "@panzoom" / "panzoom" / "dist" / "panzoom.min.js"
    if installed.exists():
        assert installed.read_bytes() == vendored
