from __future__ import annotations

from pathlib import Path

import pytest

from colgen.errors import InputError
from colgen.io.legacy import import_legacy
from colgen.model.instance import instance_from_dict
from tests.conftest import INSTANCES

LEGACY = INSTANCES / "legacy"     # the legacy CSV configurations, shipped with the instances


@pytest.mark.parametrize("name,layers,gpus", [("tiny", 4, 4), ("small", 12, 10), ("medium", 32, 44)])
def test_each_legacy_config_imports(name, layers, gpus):
    doc, notices = import_legacy(LEGACY / name)
    inst = instance_from_dict(doc)
    assert (inst.num_layers, inst.num_gpus) == (layers, gpus)
    assert len(notices) == 1 and "optimization_priority" in notices[0]
    assert all(t.catalogue for t in inst.gpu_types)


def test_legacy_matches_shipped_copy(shipped):
    doc, _ = import_legacy(LEGACY / "medium")
    inst = instance_from_dict(doc)
    assert inst.model == shipped["legacy-medium"].model
    assert (inst.bandwidth_gbps == shipped["legacy-medium"].bandwidth_gbps).all()


def test_memory_variant_chosen_from_pool(tmp_path: Path):
    doc, _ = import_legacy(LEGACY / "medium")
    assert doc["gpu_types"]["V100"]["catalogue"] == "V100-32GB"


def test_bad_legacy_folder(tmp_path: Path):
    with pytest.raises(InputError, match=r"config\.csv"):
        import_legacy(tmp_path)
    for f in ("config.csv", "gpu_pool.csv", "network_bandwidth.csv"):
        (tmp_path / f).write_text((LEGACY / "tiny" / f).read_text())
    (tmp_path / "gpu_pool.csv").write_text("gpu_type,count,memory_gb\nA100,two,80\n")
    with pytest.raises(InputError, match="'two' is not a number"):
        import_legacy(tmp_path)
