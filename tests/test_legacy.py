"""Importing the original solver's configurations: the shipped ones with no silent change, hal and
large (tests/data/legacy, written in the original's format from its repositories) with the original's
--generate-network rule, the cloud-instance pool, and every malformed input as one clear line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from colgen.cli.main import main
from colgen.errors import InputError
from colgen.io.legacy import _MODEL_FIELDS, import_legacy
from colgen.model.catalogue import CATALOGUE, match
from colgen.model.instance import instance_from_dict
from tests.conftest import INSTANCES, ROOT

LEGACY = INSTANCES / "legacy"     # the legacy CSV configurations, shipped with the instances
DATA = ROOT / "tests" / "data" / "legacy"
SPECS = DATA / "cloud" / "cloud_instances_specs.csv"


def _params(folder: Path) -> list[str]:
    return [line.split(",")[0] for line in (folder / "config.csv").read_text().splitlines()[1:] if line.strip()]


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


@pytest.mark.parametrize("name,layers,gpus,K", [("tiny", 4, 4, 4), ("small", 12, 10, 4), ("medium", 32, 44, 8)])
def test_each_shipped_config_imports_as_shipped(name, layers, gpus, K):
    doc, notices = import_legacy(LEGACY / name)
    shipped = json.loads((INSTANCES / f"legacy-{name}.json").read_text())
    assert json.loads(json.dumps(doc)) == shipped            # re-imported: exactly the shipped instance
    inst = instance_from_dict(doc)
    assert (inst.num_layers, inst.num_gpus, inst.max_gpus_per_segment) == (layers, gpus, K)
    assert all(t.catalogue for t in inst.gpu_types)
    text = "\n".join(notices)
    for key in _params(LEGACY / name):                      # nothing dropped without a word
        if key not in _MODEL_FIELDS:
            assert key in text, key
    for word in ("K = ", "tensor-parallel degrees", "roofline efficiency", "data-parallel efficiency", "no price"):
        assert word in text, word


def test_shipped_constraints_and_nodes():
    doc, notices = import_legacy(LEGACY / "medium")
    assert doc["gpu_types"]["V100"]["catalogue"] == "V100-32GB"
    assert doc["parallelism"] == {"max_gpus_per_segment": 8, "dp_efficiency": 0.95,
                                  "tensor_parallel_degrees": [1, 2, 4, 8], "max_stages": 8, "min_layers_per_stage": 5}
    assert [(g["type"], g["count"], g["node"]) for g in doc["cluster"]["gpus"][:3]] == [
        ("A100", 8, "a100-0"), ("L40", 8, "l40-0"), ("L40", 4, "l40-1")]
    inst = instance_from_dict(doc)          # node names and a bandwidth matrix together
    assert inst.gpus[8].node == "l40-0" and inst.network.kind == "matrix"
    assert any("min_memory_utilization 0.5 ignored" in n for n in notices)
    assert any("stage lengths 5, 10, 20, 30, 32" in n for n in notices)


def test_catalogue_match_is_named(tmp_path):
    folder = _copy(LEGACY / "tiny", tmp_path / "t")
    (folder / "gpu_pool.csv").write_text("gpu_type,count,memory_gb\nA100,2,48\nA40,2,48\n")
    doc, notices = import_legacy(folder)
    assert doc["gpu_types"]["A100"] == {"catalogue": "A100-40GB", "memory_gb": 48.0,
                                        "performance": {"kind": "roofline", "efficiency": 0.5}}
    assert any("A100 (gpu_pool.csv line 2, 48 GB) -> catalogue A100-40GB, no A100 variant has 48 GB" in n
               for n in notices)
    assert doc["gpu_types"]["A40"]["catalogue"] == "A40"


def test_catalogue_has_the_originals_gpus():
    for name in ("A40", "B200", "K80", "RTX-A6000", "H100-SXM", "A100-80GB", "L40S", "L40", "V100-32GB", "RTX-4090",
                 "L20", "A10", "T4", "L4", "A10G", "H200", "MI300X"):
        assert name in CATALOGUE
    assert match("RTX A6000", 48)[0].name == "RTX-A6000"
    assert match("V100", 16)[1] == "the V100 variant with 16 GB"


def test_hal_needs_a_network_and_imports_with_generate_network():
    with pytest.raises(InputError, match=r"hal/network_bandwidth\.csv: cannot read.*--generate-network"):
        import_legacy(DATA / "hal")
    doc, notices = import_legacy(DATA / "hal", generate_network=(400, 200))
    gpus = doc["cluster"]["gpus"]
    assert [g["node"] for g in gpus] == [f"v100-{i}" for i in range(8)] and {g["count"] for g in gpus} == {8}
    assert doc["cluster"]["topology"] == {"intra_node_gbps": 400, "inter_node_gbps": 400}
    assert doc["parallelism"]["tensor_parallel_degrees"] == [1, 2, 4, 8]
    assert doc["parallelism"]["max_gpus_per_segment"] == 8
    assert doc["parallelism"]["max_stages"] == 8 and doc["parallelism"]["min_layers_per_stage"] == 5
    assert doc["model"]["batch_size"] == 64 and doc["gpu_types"]["V100"]["catalogue"] == "V100-16GB"
    assert doc["costs"] == {"job_tokens": 1000000}           # no price: the $/token cap is not imported
    assert any("max_cost_per_token 10 not imported" in n for n in notices)
    inst = instance_from_dict(doc)
    assert inst.num_gpus == 64 and inst.tp_degrees == (1, 2, 4, 8)


def test_hal_priced_from_the_cloud_table_as_the_original():
    doc, notices = import_legacy(DATA / "hal", generate_network=(400, 200), cloud_specs=SPECS, cloud_provider="AWS",
                                 batch_size=32)
    assert doc["gpu_types"]["V100"]["price_per_hour"] == pytest.approx(3.06)     # the hal log's $3.06
    assert doc["costs"] == {"max_usd_per_million_tokens": pytest.approx(10.0), "job_tokens": 1000000}
    assert doc["model"]["batch_size"] == 32
    doc, _ = import_legacy(LEGACY / "medium", cloud_specs=SPECS, cloud_provider="AWS")
    assert 2 * doc["gpu_types"]["A100"]["price_per_hour"] == pytest.approx(8.19, abs=0.005)   # the README's 2 x A100
    assert "price_per_hour" not in doc["gpu_types"]["A10"]        # AWS lists an A10G, not an A10 (nor A100's)
    doc, notices = import_legacy(DATA / "hal", generate_network=(400, 200), cloud_specs=SPECS)
    assert doc["gpu_types"]["V100"]["price_per_hour"] == pytest.approx(0.55)     # the cheapest provider
    assert any("cheapest" in n for n in notices)


def _original_generated(types: list[str], intra: float, inter: float) -> np.ndarray:
    """The original's _generate_network_bandwidth: same type INTRA, else INTER, diagonal 10000."""
    n = len(types)
    m = np.array([[intra if types[i] == types[j] else inter for j in range(n)] for i in range(n)], dtype=float)
    np.fill_diagonal(m, 10000.0)
    return m


def test_large_needs_generate_network_and_matches_the_originals_rule(tmp_path):
    with pytest.raises(InputError, match=r"has 28 rows for the 80 GPUs.*--generate-network INTRA INTER"):
        import_legacy(DATA / "large")
    doc, notices = import_legacy(DATA / "large", generate_network=(400, 200))
    inst = instance_from_dict(doc)
    assert inst.num_gpus == 80 and len({g.node for g in inst.gpus}) == 12
    assert {t: s["price_per_hour"] for t, s in doc["gpu_types"].items()} == {
        "A100": 3.0, "V100": 1.0, "H100": 4.2, "T4": 0.4, "L20": 0.9, "A10": 1.0}
    assert doc["costs"]["max_usd_per_million_tokens"] == pytest.approx(100.0)
    types = [g.type for g in inst.gpus]
    expected = _original_generated(types, 400, 200)
    got = inst.bandwidth_gbps
    off = ~np.eye(80, dtype=bool)
    assert (got[off] == expected[off]).all()
    assert any("network_bandwidth.csv not read" in n for n in notices)
    # --bandwidth: the same matrix from a file
    matrix = tmp_path / "bw.csv"
    matrix.write_text("," + ",".join(f"gpu_{i}" for i in range(80)) + "\n" + "".join(
        f"gpu_{i}," + ",".join(f"{v:g}" for v in row) + "\n" for i, row in enumerate(expected)))
    doc2, _ = import_legacy(DATA / "large", bandwidth=matrix)
    assert (instance_from_dict(doc2).bandwidth_gbps[off] == expected[off]).all()
    with pytest.raises(InputError, match="both give the network"):
        import_legacy(DATA / "large", bandwidth=matrix, generate_network=(1, 2))


def test_cloud_pool_becomes_nodes():
    with pytest.raises(InputError, match=r"sequence_length: missing.*--seq-len"):
        import_legacy(DATA / "cloud")
    doc, notices = import_legacy(DATA / "cloud", seq_len=8192, batch_size=32)
    inst = instance_from_dict(doc)
    assert inst.num_gpus == 552 and len({g.node for g in inst.gpus}) == 124
    assert set(doc["gpu_types"]) == {"A10G", "L4", "L40S", "V100", "A100-40GB", "A100-80GB"}
    assert doc["model"]["num_kv_heads"] == 8
    p4d = next(g for g in doc["cluster"]["gpus"] if g["node"] == "p4d.24xlarge#1")
    assert p4d == {"type": "A100-40GB", "count": 8, "node": "p4d.24xlarge#1", "price_per_hour": 32.77 / 8}
    # the network of the original's generate_network_bandwidth.py
    ext = {"g5.12xlarge": (50, 4), "g6e.12xlarge": (200, 2), "p4d.24xlarge": (400, 8), "p3dn.24xlarge": (100, 8)}
    first = {}
    for g in inst.gpus:
        first.setdefault(g.node, g.id)
    bw = inst.bandwidth_gbps
    names = [f"{k}#0" for k in ext]
    for a in names:
        for b in names:
            if a != b:
                ea, eb = ext[a[:-2]], ext[b[:-2]]
                assert bw[first[a], first[b]] == pytest.approx(min(ea[0] / ea[1] / 8, eb[0] / eb[1] / 8))
    assert bw[first["p4d.24xlarge#0"], first["p4d.24xlarge#0"] + 1] == 600      # NVLink text
    assert bw[first["g5.12xlarge#0"], first["g5.12xlarge#0"] + 1] == 32         # "32 GB/s PCIe 4.0 x16"
    assert any("charges a whole instance" in n for n in notices)
    gen, _ = import_legacy(DATA / "cloud", seq_len=8192, batch_size=32, generate_network=(300, 100))
    assert gen["cluster"]["topology"] == {"intra_node_gbps": 300, "inter_node_gbps": 100}
    with pytest.raises(InputError, match=r"instance 'g5\.12xlarge' of provider 'GCP' is not in"):
        import_legacy(DATA / "cloud", seq_len=8192, batch_size=32, cloud_provider="GCP")


def test_cloud_table_errors_name_the_row(tmp_path):
    folder = _copy(DATA / "cloud", tmp_path / "c")
    (folder / "gpu_pool.csv").write_text("instance_name,count\ng5.xlarge,1\np2.xlarge,2\n")
    with pytest.raises(InputError, match=r"cloud_instances_specs\.csv line 35: External Network Bandwidth: 'High'"):
        import_legacy(folder, seq_len=128, batch_size=8)
    (folder / "gpu_pool.csv").write_text("instance_name,count\ng4ad.4xlarge,1\n")
    with pytest.raises(InputError, match=r"line 38: GPU Model: 'Radeon Pro V520' is not in the GPU catalogue"):
        import_legacy(folder, seq_len=128, batch_size=8)
    (folder / "gpu_pool.csv").write_text("instance_name,count\nHGX B200,1\n")
    doc, _notices = import_legacy(folder, seq_len=128, batch_size=8, cloud_provider="Nebius")
    assert doc["cluster"]["gpus"][0]["price_per_hour"] == pytest.approx(5.50 / 8)
    (folder / "gpu_pool.csv").write_text("instance_name,count\np5.48xlarge,1\np5.48xlarge,1\n")
    with pytest.raises(InputError, match=r"gpu_pool\.csv line 3: instance_name: 'p5\.48xlarge' appears again"):
        import_legacy(folder, seq_len=128, batch_size=8)


def test_batch_size_of_older_configurations(tmp_path):
    folder = _copy(LEGACY / "tiny", tmp_path / "t")
    cfg = [r for r in (folder / "config.csv").read_text().splitlines() if "batch_size" not in r]
    (folder / "config.csv").write_text("\n".join([*cfg, "batch_size,24"]) + "\n")
    doc, notices = import_legacy(folder)
    assert doc["model"]["batch_size"] == 24
    assert any("batch_size 24 (the older configurations' key" in n for n in notices)
    (folder / "config.csv").write_text("\n".join([*cfg, "min_batch_size,8", "max_batch_size,32"]) + "\n")
    doc, notices = import_legacy(folder)
    assert doc["model"]["batch_size"] == 32
    assert any("tries the batch sizes 8, 16, 32" in n for n in notices)


@pytest.mark.parametrize("file,content,says", [
    ("gpu_pool.csv", "gpu_type,count,memory_gb\nA100,2,80\nV100,2,32\nA100,1,80\n",
     "gpu_pool.csv line 4: gpu_type: 'A100' appears again (first on line 2"),
    ("gpu_pool.csv", "A100,2,80\nV100,2,32\n", "gpu_pool.csv line 1: has no header line"),
    ("gpu_pool.csv", "gpu_type,count,memory_gb\nA100,2,inf\nV100,2,32\n",
     "gpu_pool.csv line 2: memory_gb: 'inf' is not a finite number"),
    ("gpu_pool.csv", "gpu_type,count,memory_gb\nA100,nan,80\nV100,2,32\n",
     "gpu_pool.csv line 2: count: 'nan' is not a finite number"),
    ("gpu_pool.csv", b"gpu_type,count,memory_gb\nA100,2,80\nV100,2,3\xb22\n",
     "gpu_pool.csv line 3: is not UTF-8 text (byte 0xb2 at character 9)"),
    ("config.csv", "parameter,value\nsequence_length,2048\nsequence_length,4096\n",
     "config.csv line 3: sets sequence_length again (first on line 2)"),
    ("config.csv", "parameter,value\nsequence_length,nan\n",
     "config.csv line 2: sequence_length: 'nan' is not a finite"),
])
def test_malformed_files_are_one_clear_error(tmp_path, file, content, says):
    folder = _copy(LEGACY / "tiny", tmp_path / "t")
    path = folder / file
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(InputError) as exc:
        import_legacy(folder)
    assert says in str(exc.value)


def test_costs_imported_as_budgets(tmp_path):
    folder = _copy(LEGACY / "tiny", tmp_path / "t")
    (folder / "gpu_pool.csv").write_text("gpu_type,count,memory_gb,dollar_per_hour\nA100,2,80,3\nV100,2,32,1\n")
    cfg = (folder / "config.csv").read_text()
    cfg = cfg.replace("max_hourly_cost,999.0", "max_hourly_cost,7.5").replace("max_total_cost,999999.0",
                                                                              "max_total_cost,250")
    cfg = cfg.replace("max_total_runtime_hours,999999.0", "max_total_runtime_hours,12")
    (folder / "config.csv").write_text(cfg)
    doc, notices = import_legacy(folder)
    assert doc["costs"] == {"max_usd_per_hour": 7.5, "max_usd_per_million_tokens": 100.0, "job_tokens": 1000000,
                            "job_max_usd": 250.0, "job_max_hours": 12.0}
    assert doc["gpu_types"]["A100"]["price_per_hour"] == 3.0
    assert any("max_hourly_cost 7.5 -> costs.max_usd_per_hour" in n for n in notices)


def test_degrees_and_k_options():
    doc, _ = import_legacy(DATA / "hal", generate_network=(400, 200), tp_degrees=[1, 2])
    assert doc["parallelism"]["tensor_parallel_degrees"] == [1, 2] and doc["parallelism"]["max_gpus_per_segment"] == 4
    doc, _notices = import_legacy(DATA / "hal", generate_network=(400, 200), max_gpus_per_segment=2)
    assert doc["parallelism"]["tensor_parallel_degrees"] == [1, 2]
    with pytest.raises(InputError, match=r"--tp-degrees: degree 3 does not divide the model's 64 attention heads"):
        import_legacy(DATA / "hal", generate_network=(400, 200), tp_degrees=[1, 3])
    doc, _ = import_legacy(DATA / "hal", generate_network=(400, 200), roofline_efficiency="original")
    assert doc["gpu_types"]["V100"]["performance"]["efficiency"] == 0.42


def test_command_line(tmp_path, capsys):
    out = tmp_path / "hal.json"
    assert main(["import-legacy", str(DATA / "hal"), "--generate-network", "400", "200", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "K = 8" in err and "wrote" in err and all(len(line) < 1000 for line in err.splitlines())
    assert main(["show", str(out)]) == 0
    with pytest.raises(SystemExit) as exc:
        main(["import-legacy", str(DATA / "hal"), "--generate-network", "400", "200", "--bandwidth", "x.csv",
              "-o", str(out)])
    assert exc.value.code == 2
    capsys.readouterr()
    assert main(["import-legacy", str(DATA / "large"), "-o", str(out)]) == 2
    assert "--generate-network INTRA INTER" in capsys.readouterr().err
