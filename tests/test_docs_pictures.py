"""docs/images/*.svg are drawn by docs/generate_pictures.py and must be current (the SVG
renderer is deterministic, so a change to the layout or the graphs shows here)."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_pictures_are_current(tmp_path):
    spec = importlib.util.spec_from_file_location("generate_pictures", ROOT / "docs" / "generate_pictures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    for drawn in sorted(tmp_path.glob("*.svg")):
        committed = ROOT / "docs" / "images" / drawn.name
        assert committed.read_text(encoding="utf-8") == drawn.read_text(encoding="utf-8"), \
            f"{committed} is stale: run python docs/generate_pictures.py"
