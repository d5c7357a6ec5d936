from __future__ import annotations

import struct
from pathlib import Path

from clinai.reporting import PLOT_NAMES, render_plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunks(data: bytes) -> list[bytes]:
    assert data.startswith(PNG_SIGNATURE)
    pos, kinds = len(PNG_SIGNATURE), []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kinds.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return kinds


def test_every_plot_is_a_valid_png_without_metadata(all_plots: dict[str, Path]) -> None:
    assert set(all_plots) == set(PLOT_NAMES)
    for name, path in all_plots.items():
        assert path.name == f"{name}.png"
        data = path.read_bytes()
        kinds = _chunks(data)
        assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
        # No software/time stamps: the same numbers give the same bytes.
        assert b"tIME" not in kinds and b"tEXt" not in kinds and b"iTXt" not in kinds
        width, height = struct.unpack(">II", data[16:24])
        assert width > 200 and height > 200


def test_no_temporary_files_left(all_plots: dict[str, Path]) -> None:
    folder = next(iter(all_plots.values())).parent
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{n}.png" for n in PLOT_NAMES)


def test_plots_are_deterministic(tmp_path: Path, metrics: dict) -> None:
    small = {"roc_curve": metrics["roc_curve"], "auroc": metrics["auroc"]}
    first = render_plots(small, out_dir=tmp_path / "a")["roc"].read_bytes()
    second = render_plots(small, out_dir=tmp_path / "b")["roc"].read_bytes()
    assert first == second


def test_plots_with_missing_data_are_skipped(tmp_path: Path, metrics: dict) -> None:
    for key in ("roc_curve", "decision_curve", "subgroups"):
        del metrics[key]
    written = render_plots(metrics, importance=None, out_dir=tmp_path)
    assert set(written) == {"calibration"}
    assert [p.name for p in tmp_path.iterdir()] == ["calibration.png"]


def test_no_plot_for_empty_metrics(tmp_path: Path) -> None:
    assert render_plots({}, out_dir=tmp_path) == {}
    assert (
        render_plots(
            {"calibration": {"curve": []}, "roc_curve": [{"fpr": None, "tpr": 1}]},
            importance={"variables": []},
            out_dir=tmp_path,
        )
        == {}
    )


def test_subgroups_plot_with_only_suppressed_groups(tmp_path: Path) -> None:
    metrics = {
        "subgroups": {
            "sex": [
                {"group": "female", "n": None, "events": None, "suppressed": True, "auroc": None}
            ]
        }
    }
    written = render_plots(metrics, out_dir=tmp_path)
    assert set(written) == {"subgroups"}


def test_render_plots_does_not_touch_pyplot(tmp_path: Path, metrics: dict) -> None:
    import sys

    had_pyplot = "matplotlib.pyplot" in sys.modules
    render_plots({"roc_curve": metrics["roc_curve"]}, out_dir=tmp_path)
    if not had_pyplot:
        assert "matplotlib.pyplot" not in sys.modules
