"""Full disks: every command that writes exits 1 naming the file, with nothing left behind.

Each test mounts a small tmpfs and fills it, leaving a few KiB, then runs a
command that writes there. That needs root (``mount``): CI runs as root and sets
MINEMAP_REQUIRE_TMPFS=1, which turns a failed mount into a failure; elsewhere
these tests are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner

from minemap.cli import main

ROOT = Path(__file__).parent.parent
SAMPLE = [
    "--hazards",
    ROOT / "data" / "hazards.geojson",
    "--releases",
    ROOT / "data" / "releases.geojson",
]
DISTRICTS = ["--districts", ROOT / "data" / "districts.geojson"]
SMALL = Path(__file__).parent / "data"
RECORD = ROOT / "data" / "records" / "example_record.json"
#: The tmpfs: a few hundred KiB, most of it taken by a filler file.
SIZE = 512 * 1024
FILLER = "filler"


def _unavailable(reason: str) -> None:
    if os.environ.get("MINEMAP_REQUIRE_TMPFS") == "1":
        pytest.fail(f"{reason} (MINEMAP_REQUIRE_TMPFS=1 requires the full-disk tests to run)")
    pytest.skip(f"{reason}; run as root (CI does) to test writing on a full disk")


class Disk:
    """A mounted tmpfs; :meth:`fill` leaves ``leave`` bytes free."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def free(self) -> int:
        stat = os.statvfs(self.path)
        return stat.f_bavail * stat.f_frsize

    def fill(self, leave: int) -> Path:
        with open(self.path / FILLER, "ab") as f:
            missing = self.free() - leave
            while missing > 0:
                f.write(bytes(min(missing, 1 << 16)))
                missing -= 1 << 16
        assert self.free() <= leave + 4096
        return self.path

    def names(self) -> list[str]:
        return sorted(p.name for p in self.path.iterdir())


@pytest.fixture
def disk(tmp_path):
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        _unavailable("mounting a tmpfs needs root")
    if shutil.which("mount") is None:
        _unavailable("no mount command")
    path = tmp_path / "disk"
    path.mkdir()
    options = f"size={SIZE},mode=0755"
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        _unavailable(f"cannot mount a tmpfs: {done.stderr.strip()}")
    try:
        yield Disk(path)
    finally:
        if subprocess.run(["umount", str(path)], check=False).returncode:
            subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture
def runner():
    return CliRunner()


def _full(runner, args, output: Path, disk: Disk):
    """Run a command writing ``output`` on the full disk; check exit 1 and nothing left."""
    result = runner.invoke(main, [*map(str, args)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # no traceback
    assert f"{output}: not written: the disk is full" in result.stderr, result.stderr
    assert "nothing was written under this name" in result.stderr
    assert disk.names() == [FILLER]  # no file under the final name, no temporary file
    return result


LAYERS = [".kml", ".kmz", ".gpkg", ".shp", ".zip", ".geojson", ".fgb", ".parquet", ".csv"]


@pytest.mark.parametrize("leave", [0, 64 * 1024])
@pytest.mark.parametrize("suffix", LAYERS)
def test_remaining_layer_on_a_full_disk(runner, disk, suffix, leave):
    # .kml and .kmz exited 0 leaving an unparsable file: LIBKML drops the error.
    output = disk.fill(leave) / f"rem{suffix}"
    _full(runner, ["remaining", *SAMPLE, "-o", output], output, disk)


def test_by_district_table_on_a_full_disk(runner, disk):
    output = disk.fill(0) / "x.csv"
    _full(runner, ["remaining", *SAMPLE, *DISTRICTS, "--by-district", output], output, disk)


def test_rejects_on_a_full_disk(runner, disk, tmp_path):
    hazards = gpd.read_file(SAMPLE[1])
    hazards.loc[0, "mines_ap"] = -1  # one rejected feature
    hazards.to_file(tmp_path / "h.geojson")
    output = disk.fill(0) / "rejects.gpkg"
    args = ["remaining", "--hazards", tmp_path / "h.geojson", *SAMPLE[2:], "--rejects", output]
    _full(runner, args, output, disk)


@pytest.mark.parametrize("leave", [0, 64 * 1024])
def test_map_on_a_full_disk(runner, disk, leave):
    output = disk.fill(leave) / "map.html"
    _full(runner, ["map", *SAMPLE, "-o", output], output, disk)


@pytest.mark.parametrize("leave", [0, 16 * 1024])
def test_density_on_a_full_disk(runner, disk, leave):
    output = disk.fill(leave) / "density.tif"
    _full(runner, ["density", *SAMPLE, "--cell-size", "100", "-o", output], output, disk)


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson"])
def test_record_on_a_full_disk(runner, disk, suffix):
    # `record -o r.gpkg` ended in a pyogrio traceback.
    output = disk.fill(0) / f"r{suffix}"
    _full(runner, ["record", RECORD, "-o", output], output, disk)


@pytest.mark.parametrize("leave", [0, 32 * 1024])
def test_init_on_a_full_disk(runner, disk, leave):
    # `init` ended in an sqlite3.OperationalError traceback.
    output = disk.fill(leave) / "ws.gpkg"
    _full(runner, ["init", output], output, disk)


def test_progress_on_a_full_disk(runner, disk):
    folder = disk.fill(0) / "progress"
    result = runner.invoke(main, ["progress", *map(str, SAMPLE), "-o", str(folder)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert f"{folder / 'progress.csv'}: not written: the disk is full" in result.stderr
    assert [p.name for p in folder.iterdir()] == []


def test_a_failed_overwrite_keeps_the_old_file(runner, disk):
    small = [
        "--hazards",
        SMALL / "small_hazards.geojson",
        "--releases",
        SMALL / "small_releases.geojson",
    ]
    output = disk.path / "rem.geojson"
    first = runner.invoke(main, ["remaining", *map(str, small), "-o", str(output)])
    assert first.exit_code == 0, first.output
    before = output.read_bytes()
    disk.fill(16 * 1024)
    result = runner.invoke(main, ["remaining", *map(str, SAMPLE), "-o", str(output), "--overwrite"])
    assert result.exit_code == 1, result.output
    assert "the existing file is unchanged" in result.stderr
    assert output.read_bytes() == before
    assert disk.names() == [FILLER, "rem.geojson"]


def test_a_shapefile_set_that_does_not_fit_keeps_the_old_set(runner, disk):
    small = [
        "--hazards",
        SMALL / "small_hazards.geojson",
        "--releases",
        SMALL / "small_releases.geojson",
    ]
    output = disk.path / "rem.shp"
    first = runner.invoke(main, ["remaining", *map(str, small), "-o", str(output)])
    assert first.exit_code == 0, first.output
    before = {p.name: p.read_bytes() for p in disk.path.iterdir()}
    disk.fill(32 * 1024)
    result = runner.invoke(main, ["remaining", *map(str, SAMPLE), "-o", str(output), "--overwrite"])
    assert result.exit_code == 1, result.output
    assert {p.name: p.read_bytes() for p in disk.path.iterdir() if p.name != FILLER} == before
