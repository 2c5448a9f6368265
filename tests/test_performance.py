from __future__ import annotations

import json

import numpy as np
import pytest

from colgen.errors import InputError
from colgen.model.instance import instance_from_dict
from colgen.model.performance import Affine, Profile, gpu_throughput, roofline_for
from tests.conftest import INSTANCES


def test_affine_throughput_formula():
    model = Affine(alpha_s=0.002, beta_s=0.001)
    # b * seq / (L * (alpha + beta b)) = 8 * 100 / (2 * 0.01)
    assert gpu_throughput(model, 8, 2, 100) == pytest.approx(40000)


def test_profile_interpolates_and_refuses_extrapolation():
    p = Profile(batch_sizes=(1.0, 4.0, 16.0), latency_s=(0.01, 0.02, 0.08))
    assert p.latency(2.5) == pytest.approx(0.015)
    assert p.latency(16) == pytest.approx(0.08)
    p.check_batch(16, "x")
    with pytest.raises(InputError, match="outside the measured range"):
        p.check_batch(17, "gpu_types.x.performance")


def test_roofline_is_the_max_of_compute_and_memory_time():
    r = roofline_for(100, 1000, 0.5, params_per_layer=1e9, d_model=1000, seq_len=10,
                     bytes_per_element=2, kv_gb_per_sample_layer=0.0)
    # compute: b * 10 tokens * (2e9 + 2e4) flops / 50e12; memory: (2e9 + b * 4e4) bytes / 500e9
    b = 1.0
    compute = b * 10 * (2e9 + 2 * 1000 * 10) / 50e12
    memory = (2e9 + b * 2 * 10 * 1000 * 2) / 500e9
    assert r.latency(b) == pytest.approx(max(compute, memory))
    assert memory > compute  # small batches are memory-bound
    b = 1000.0
    assert r.latency(b) == pytest.approx(b * 10 * (2e9 + 2e4) / 50e12)


def test_tables_match_the_stage_formula():
    doc = json.loads((INSTANCES / "seed-tiny.json").read_text())
    inst = instance_from_dict(doc)
    tab = inst.tables
    m = inst.model
    for t, gt in enumerate(inst.gpu_types):
        for k in (1, 2):
            for L in range(1, m.num_layers + 1):
                b = m.batch_size / k
                expected = k * inst.dp_efficiency[k - 1] * gpu_throughput(gt.performance, b, L, m.seq_len)
                assert tab.tau[L, k, t] == pytest.approx(expected, rel=1e-12)
    # A mixed set runs at its slowest type.
    assert tab.stage_throughput(2, (0, 2)) == pytest.approx(min(tab.tau[2, 2, 0], tab.tau[2, 2, 1]))


def test_link_throughput_in_tokens_per_second():
    inst = instance_from_dict(json.loads((INSTANCES / "seed-tiny.json").read_text()))
    # 200 GB/s * 1e9 / (4096 * 2 bytes) tokens/s, the minimum over pairs.
    assert inst.tables.link_throughput((0, 1), (2,)) == pytest.approx(200e9 / 8192)
    assert np.isinf(inst.tables.pair_throughput(1, 1))


def test_memory_fit_is_exact_at_the_boundary():
    doc = json.loads((INSTANCES / "seed-tiny.json").read_text())
    doc["model"].update(weight_gb_per_layer=1.0, kv_gb_per_sample_layer=0.25)
    # 2 layers, k = 2 -> batch 8 each: 2 * 1 + 2 * 0.25 * 8 = 6 GB exactly.
    doc["gpu_types"]["V100"]["memory_gb"] = 6
    tab = instance_from_dict(doc).tables
    assert tab.fits[2, 2, 1] and not tab.fits[3, 2, 1]
