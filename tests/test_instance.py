from __future__ import annotations

import copy
import json

import jsonschema
import numpy as np
import pytest
from hypothesis import given, settings

from colgen.errors import InputError
from colgen.model.instance import instance_from_dict, instance_schema, load_instance
from tests.conftest import INSTANCES, SHIPPED, tiny_docs

REQUIRED_SHIPPED = {"seed-tiny", "seed-demo", "legacy-tiny", "legacy-small", "legacy-medium",
                    "mixed-80x65", "large-126x256"}


def test_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(instance_schema())


def test_all_named_instances_are_shipped():
    assert set(SHIPPED) >= REQUIRED_SHIPPED


@pytest.mark.parametrize("name,layers,gpus,k", [
    ("seed-tiny", 4, 4, 2), ("seed-demo", 14, 30, 3), ("mixed-80x65", 80, 65, 4),
    ("large-126x256", 126, 256, 8), ("legacy-medium", 32, 44, 8)])
def test_shipped_sizes(shipped, name, layers, gpus, k):
    inst = shipped[name]
    assert (inst.num_layers, inst.num_gpus, inst.max_gpus_per_segment) == (layers, gpus, k)


def test_large_instance_has_32_nodes_of_8_and_four_types(shipped):
    inst = shipped["large-126x256"]
    nodes = {}
    for g in inst.gpus:
        nodes.setdefault(g.node, []).append(g.type)
    assert len(nodes) == 32 and all(len(v) == 8 for v in nodes.values())
    assert len({g.type for g in inst.gpus}) == 4


def test_round_trip_through_json(shipped, tmp_path):
    for inst in shipped.values():
        path = tmp_path / "x.json"
        path.write_text(inst.to_json())
        again = load_instance(path)
        assert np.array_equal(again.bandwidth_gbps, inst.bandwidth_gbps)
        assert again.model == inst.model and again.gpus == inst.gpus


def test_objects_are_immutable(shipped):
    inst = shipped["seed-tiny"]
    with pytest.raises(AttributeError):
        inst.name = "x"  # type: ignore[misc]
    with pytest.raises(ValueError):
        inst.bandwidth_gbps[0, 1] = 1.0
    with pytest.raises(ValueError):
        inst.tables.tau[1, 1, 0] = 1.0


def test_memory_derived_from_shapes():
    # Llama-2-70B: d 8192, FFN 28672 (gated), 64 heads, 8 KV heads -> 855.6M parameters per layer;
    # KV per sample per layer: 2 * seq * 1024 * 2 bytes.
    inst = load_instance(INSTANCES / "mixed-80x65.json")
    m = inst.model
    params = 2 * 8192 * 8192 + 2 * 8192 * 1024 + 3 * 8192 * 28672
    assert m.params_per_layer == params
    assert m.weight_gb_per_layer == pytest.approx(params * 2 / 1e9)
    assert m.kv_gb_per_sample_layer == pytest.approx(2 * 2048 * 1024 * 2 / 1e9)


def test_topology_expands_to_matrix():
    doc = json.loads((INSTANCES / "seed-tiny.json").read_text())
    doc["cluster"] = {
        "gpus": [{"type": "A100", "count": 2, "node": "a"}, {"type": "V100", "count": 1, "node": "b"},
                 {"type": "V100", "count": 1, "node": "c"}],
        "topology": {"intra_node_gbps": 100, "inter_node_gbps": 10, "nodes": {"b": {"intra_gbps": 7}},
                     "links": [{"nodes": ["c", "a"], "gbps": 3}]},
    }
    bw = instance_from_dict(doc).bandwidth_gbps
    assert bw[0, 1] == 100 and bw[0, 2] == 10 and bw[2, 3] == 10
    assert bw[0, 3] == 3 and bw[3, 1] == 3
    assert np.isinf(bw[2, 2])


def test_efficiency_number_and_list():
    doc = json.loads((INSTANCES / "seed-tiny.json").read_text())
    doc["parallelism"]["dp_efficiency"] = 0.9
    assert instance_from_dict(doc).dp_efficiency == (1.0, 0.9)
    doc["parallelism"]["dp_efficiency"] = [1.0, 0.8, 0.7]
    assert instance_from_dict(doc).dp_efficiency == (1.0, 0.8)


def test_catalogue_defaults_can_be_overridden():
    doc = json.loads((INSTANCES / "mixed-80x65.json").read_text())
    doc["gpu_types"]["H100"] = {"catalogue": "H100-SXM", "memory_gb": 94,
                                "performance": {"kind": "roofline", "tflops": 500, "efficiency": 0.7}}
    gt = instance_from_dict(doc).gpu_types[0]
    assert gt.memory_gb == 94
    assert gt.performance.tflops == 500 and gt.performance.hbm_gbps == 3350
    assert gt.performance.efficiency == 0.7


@settings(max_examples=50)
@given(tiny_docs())
def test_generated_documents_validate_against_the_schema(doc):
    jsonschema.validate(doc, instance_schema())
    inst = instance_from_dict(copy.deepcopy(doc))
    assert inst.num_layers == doc["model"]["num_layers"]


def test_error_names_field():
    doc = json.loads((INSTANCES / "seed-tiny.json").read_text())
    doc["model"]["seq_len"] = 0
    with pytest.raises(InputError) as exc:
        instance_from_dict(doc)
    assert exc.value.field == "model.seq_len"
