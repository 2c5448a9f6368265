"""Infeasible instances are explained in words, and each explanation is a proof (brute force agrees)."""

from __future__ import annotations

import json

from hypothesis import given, settings

from colgen.check.brute import solve_brute
from colgen.model.instance import instance_from_dict
from colgen.space.feasibility import why_infeasible
from tests.conftest import INSTANCES, shaped_instances


def _tiny(**parallelism) -> dict:
    doc = json.loads((INSTANCES / "seed-tiny.json").read_text())
    doc["parallelism"].update(parallelism)
    return doc


def test_stage_limits_that_cannot_cover_the_model_are_named():
    reason = why_infeasible(instance_from_dict(_tiny(max_stages=1, max_layers_per_stage=2)))
    assert "max_stages" in reason and "cover 2 of the model's 4 layers" in reason
    assert "min_layers_per_stage 5" in why_infeasible(instance_from_dict(_tiny(min_layers_per_stage=5)))


def test_a_layer_too_large_for_every_gpu_is_named():
    doc = _tiny()
    doc["model"]["weight_gb_per_layer"] = 1000
    doc["model"].pop("ffn_dim", None)
    assert "no GPU holds even one layer" in why_infeasible(instance_from_dict(doc))


@settings(max_examples=200)
@given(shaped_instances(max_gpus=5))
def test_every_explanation_is_a_proof(inst):
    if why_infeasible(inst) is not None:
        assert solve_brute(inst).status == "infeasible"
