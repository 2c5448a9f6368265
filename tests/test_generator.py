from __future__ import annotations

import pytest

from colgen.io.generator import NETWORKS, random_instance
from colgen.model.instance import instance_from_dict


def test_same_seed_same_instance():
    assert random_instance(7, num_gpus=6) == random_instance(7, num_gpus=6)
    assert random_instance(7, num_gpus=6) != random_instance(8, num_gpus=6)


@pytest.mark.parametrize("network", NETWORKS)
def test_networks(network):
    inst = instance_from_dict(random_instance(1, num_layers=6, num_gpus=8, network=network,
                                              gpus_per_node=4))
    levels = inst.network.levels()
    if network == "uniform":
        assert len(levels) == 1
    if network == "distinct":
        assert len(levels) > 40


def test_slow_links_can_bind():
    # Across many seeds, some node pair is slower than the fastest single-stage throughput.
    binding = 0
    for seed in range(20):
        inst = instance_from_dict(random_instance(seed, num_layers=4, num_gpus=6, network="nodes"))
        if inst.network.levels().min() * inst.tables.link_scale < inst.tables.tau[1:, 1, :].max():
            binding += 1
    assert binding >= 10


def test_regions_generator_builds_the_hierarchy():
    from colgen.io.regions import regions_instance

    doc = regions_instance(3, regions=2, racks=2, nodes=2, gpus_per_node=4, jitter=0.03)
    inst = instance_from_dict(doc)
    assert inst.num_gpus == 2 * 2 * 2 * 4 and inst.network.kind == "topology"
    node = [g.node for g in inst.gpus]
    region = [n.split("k")[0] for n in node]
    rack = [n.split("n")[0] for n in node]
    for i in range(inst.num_gpus):
        for j in range(inst.num_gpus):
            if i == j:
                continue
            bw = float(inst.network.bandwidth(i, j))
            if region[i] != region[j]:
                assert 0.5 * 0.97 - 1e-9 <= bw <= 5.0 * 1.03 + 1e-9
            elif rack[i] != rack[j]:
                assert abs(bw - 50.0) <= 50.0 * 0.03 + 1e-9
            elif node[i] != node[j]:
                assert abs(bw - 100.0) <= 100.0 * 0.03 + 1e-9


def test_generate_writes_the_regions_presets(tmp_path):
    from colgen.cli.main import main

    out = tmp_path / "r.json"
    assert main(["generate", "--network", "regions", "--preset", "70b", "--jitter", "0.03", "-o", str(out)]) == 0
    inst = instance_from_dict(__import__("json").loads(out.read_text()))
    assert inst.num_gpus == 128 and inst.num_layers == 80
