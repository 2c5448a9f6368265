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
