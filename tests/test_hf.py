"""The Hugging Face converter (colgen/model/hf.py): every shipped config.json, the formulas against
published parameter counts, and one-line errors naming the field.

Where a test compares with a published figure, the source is named next to it
(instances/models/README.md).
"""

from __future__ import annotations

import copy
import json
import math

import pytest

from colgen.errors import InputError
from colgen.model.hf import HFConfigError, analyse_hf_config, load_hf_config, model_from_hf_config
from colgen.model.instance import instance_from_dict
from tests.conftest import INSTANCES

HERE = INSTANCES
MODELS = sorted(p.parent.name for p in (HERE / "models").glob("*/config.json"))
SCHEMA_FIELDS = {"name", "num_layers", "d_model", "bytes_per_element", "seq_len", "batch_size",
                 "ffn_dim", "num_heads", "num_kv_heads", "gated_ffn", "weight_gb_per_layer",
                 "kv_gb_per_sample_layer"}


def cfg(name: str) -> dict:
    return load_hf_config(HERE / "models" / name / "config.json")


def convert(config: dict, seq_len: int = 4096, batch_size: float = 8):
    return model_from_hf_config(config, seq_len=seq_len, batch_size=batch_size)


# ---- colgen cross-check helper -------------------------------------------------------------

def colgen_load(model: dict):
    """Build a one-GPU colgen instance around ``model`` (schema + colgen's own derivations)."""
    data = {
        "format": "colgen-instance/1",
        "name": "hf-test",
        "model": model,
        "gpu_types": {"H100": {"catalogue": "H100-SXM", "memory_gb": 80}},
        "cluster": {"gpus": [{"type": "H100", "count": 1}], "bandwidth_gbps": [[0]]},
        "parallelism": {"max_gpus_per_segment": 1},
    }
    return instance_from_dict(data)


# ---- every collected config converts ---------------------------------------------------------

def test_collected_configs_exist():
    assert len(MODELS) >= 8, MODELS


@pytest.mark.parametrize("name", MODELS)
def test_every_collected_config_converts(name):
    model, notices = convert(cfg(name))
    assert set(model) <= SCHEMA_FIELDS
    assert model["num_layers"] >= 1 and model["d_model"] >= 1
    assert model["bytes_per_element"] > 0
    assert all(isinstance(n, str) and n for n in notices)
    assert any("embedding" in n for n in notices)        # embeddings / LM head reported
    assert any("norms ignored" in n for n in notices)


@pytest.mark.parametrize("name", MODELS)
def test_every_collected_config_loads_in_colgen(name):
    """colgen accepts the block, and its derived numbers equal ours (no formula drift)."""
    model, _ = convert(cfg(name))
    a, _ = analyse_hf_config(cfg(name))
    spec = colgen_load(model).model
    big = a.max_layer
    assert spec.params_per_layer == pytest.approx(big.total, rel=1e-12)
    assert spec.weight_gb_per_layer == pytest.approx(big.total * a.bytes_per_element / 1e9, rel=1e-12)
    assert spec.kv_gb_per_sample_layer == pytest.approx(
        4096 * a.kv_elements_per_token * a.bytes_per_element / 1e9, rel=1e-12)


# ---- verbatim files: byte size equals the size shown on the Hugging Face page ------------------

@pytest.mark.parametrize("name,size", [("qwen2-72b", 664), ("mixtral-8x7b-instruct-v0.1", 720)])
def test_verbatim_files_have_published_byte_size(name, size):
    # Sizes as shown on the Hub blob pages cited in SOURCES.md.
    assert (HERE / "models" / name / "config.json").stat().st_size == size


# ---- Llama-2-7B ---------------------------------------------------------------------------------

def test_llama2_7b_shapes_and_dtype():
    c = cfg("llama-2-7b")
    assert c["torch_dtype"] == "float16"
    model, _ = convert(c)
    assert model["name"] == "meta-llama/Llama-2-7b-hf"
    assert (model["num_layers"], model["d_model"], model["ffn_dim"]) == (32, 4096, 11008)
    assert (model["num_heads"], model["num_kv_heads"]) == (32, 32)
    assert model["bytes_per_element"] == 2
    assert model["gated_ffn"] is True
    assert "weight_gb_per_layer" not in model          # shape mode: colgen derives it


def test_llama2_7b_parameter_count():
    a, _ = analyse_hf_config(cfg("llama-2-7b"))
    layer = a.layers[0]
    # Matrices only: 4 d^2 (q, k, v, o) + 3 d f (gate, up, down).
    assert layer.total == 4 * 4096**2 + 3 * 4096 * 11008 == 202_375_168
    # The brief's "known" 202,383,360 is that plus the two RMSNorm weight vectors (2 d = 8,192):
    assert layer.total + a.norm_params_per_layer == 202_383_360
    # ... which is what makes the whole model add up to 6,738,415,616 parameters
    # (32 layers + embedding + untied LM head + final norm).
    whole = 32 * (layer.total + a.norm_params_per_layer) + a.embedding_params + a.lm_head_params + 4096
    assert whole == 6_738_415_616


def test_llama2_7b_matches_colgen_formula():
    model, _ = convert(cfg("llama-2-7b"), seq_len=2048, batch_size=16)
    spec = colgen_load(model).model
    assert spec.params_per_layer == 202_375_168
    assert spec.weight_gb_per_layer == pytest.approx(202_375_168 * 2 / 1e9)
    assert spec.kv_gb_per_sample_layer == pytest.approx(2 * 2048 * 4096 * 2 / 1e9)


# ---- Llama 3.1 ------------------------------------------------------------------------------------

def test_llama31_70b_gqa():
    model, _ = convert(cfg("llama-3.1-70b-instruct"))
    assert (model["num_layers"], model["d_model"], model["ffn_dim"]) == (80, 8192, 28672)
    assert (model["num_heads"], model["num_kv_heads"]) == (64, 8)
    spec = colgen_load(model).model
    assert spec.kv_gb_per_sample_layer == pytest.approx(2 * 4096 * 8 * 128 * 2 / 1e9)


def test_llama31_whole_model_counts():
    # Totals follow from the configs; 8,030,261,248 and 70,553,706,496 are the usual exact counts
    # for Llama-3.1-8B / 70B.  405B with 8 KV heads gives 405.85e9 (16 KV heads would give ~410e9).
    def whole(name):
        a, _ = analyse_hf_config(cfg(name))
        return (sum(x.total for x in a.layers) + a.num_layers * a.norm_params_per_layer
                + a.embedding_params + a.lm_head_params + a.d_model)
    assert whole("llama-3.1-8b") == 8_030_261_248
    assert whole("llama-3.1-70b-instruct") == 70_553_706_496
    assert whole("llama-3.1-405b") == 405_853_388_800
    c16 = cfg("llama-3.1-405b") | {"num_key_value_heads": 16}
    a16, _ = analyse_hf_config(c16)
    assert 409.9e9 < sum(x.total for x in a16.layers) + 126 * a16.norm_params_per_layer \
        + a16.embedding_params + a16.lm_head_params < 410.2e9


def test_llama31_405b():
    model, _ = convert(cfg("llama-3.1-405b"))
    assert (model["num_layers"], model["d_model"], model["ffn_dim"]) == (126, 16384, 53248)
    assert (model["num_heads"], model["num_kv_heads"]) == (128, 8)


# ---- Qwen2 / Mistral --------------------------------------------------------------------------------

def test_qwen2_72b():
    model, notices = convert(cfg("qwen2-72b"))
    assert (model["num_layers"], model["d_model"], model["ffn_dim"]) == (80, 8192, 29568)
    assert (model["num_heads"], model["num_kv_heads"], model["bytes_per_element"]) == (64, 8, 2)
    assert any("biases ignored" in n for n in notices)        # Qwen2 q/k/v biases
    assert not any("sliding_window" in n for n in notices)    # use_sliding_window is false


def test_mistral_sliding_window_notice():
    _, short = convert(cfg("mistral-7b-v0.1"), seq_len=4096)
    _, long = convert(cfg("mistral-7b-v0.1"), seq_len=8192)
    assert not any("sliding_window" in n for n in short)
    assert any("sliding_window 4096 < seq_len 8192" in n for n in long)


# ---- MoE ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["mixtral-8x7b-instruct-v0.1", "mixtral-8x7b-v0.1"])
def test_mixtral_moe(name):
    model, notices = convert(cfg(name))
    text = " ".join(notices)
    assert "expert" in text and "8 experts" in text and "routed to 2 experts" in text
    assert "active_params_per_layer" in text
    assert "ffn_dim" not in model and "gated_ffn" not in model
    a, _ = analyse_hf_config(cfg(name))
    d, f = 4096, 14336
    attn = 2 * d * d + 2 * d * 1024
    assert a.layers[0].total == attn + 8 * 3 * d * f + 8 * d
    assert a.layers[0].active == attn + 2 * 3 * d * f + 8 * d
    assert model["weight_gb_per_layer"] == pytest.approx(a.layers[0].total * 2 / 1e9)
    # Published: "47B parameters, 13B active" (Mixtral paper, arXiv 2401.04088); Mistral AI's
    # announcement as quoted by several reports: 46.7B total, 12.9B per token (see SOURCES.md).
    emb = a.embedding_params + a.lm_head_params
    assert 46.6e9 < a.params_total + emb < 46.8e9
    assert 12.8e9 < a.params_active + emb < 13.0e9
    spec = colgen_load(model).model
    assert spec.params_per_layer == pytest.approx(a.layers[0].total)   # colgen sees all experts


def test_mixtral_base_without_dtype_defaults_to_two_bytes():
    model, notices = convert(cfg("mixtral-8x7b-v0.1"))
    assert model["bytes_per_element"] == 2
    assert any("torch_dtype missing" in n for n in notices)


def qwen15_moe_a27b() -> dict:
    # Qwen2MoeConfig defaults in transformers (docstring checkpoint Qwen/Qwen1.5-MoE-A2.7B).
    return {"model_type": "qwen2_moe", "architectures": ["Qwen2MoeForCausalLM"],
            "vocab_size": 151936, "hidden_size": 2048, "intermediate_size": 5632,
            "num_hidden_layers": 24, "num_attention_heads": 16, "num_key_value_heads": 16,
            "hidden_act": "silu", "decoder_sparse_step": 1, "moe_intermediate_size": 1408,
            "shared_expert_intermediate_size": 5632, "num_experts_per_tok": 4, "num_experts": 60,
            "mlp_only_layers": [], "tie_word_embeddings": False, "torch_dtype": "bfloat16"}


def test_qwen2_moe():
    a, notices = analyse_hf_config(qwen15_moe_a27b())
    emb = a.embedding_params + a.lm_head_params
    # Model card of Qwen/Qwen1.5-MoE-A2.7B: 14.3B parameters in total, 2.7B activated.
    assert 14.2e9 < a.params_total + emb < 14.4e9
    assert 2.6e9 < a.params_active + emb < 2.8e9
    model, notices = convert(qwen15_moe_a27b())
    assert any("qwen_moe fields" in n and "60 experts" in n for n in notices)
    colgen_load(model)


def test_qwen2_moe_dense_layers():
    c = qwen15_moe_a27b() | {"mlp_only_layers": [0, 1]}
    a, _ = analyse_hf_config(c)
    assert [x.kind for x in a.layers[:3]] == ["dense", "dense", "moe"]
    model, notices = convert(c)
    assert any("layers differ" in n for n in notices)
    assert model["weight_gb_per_layer"] == pytest.approx(a.max_layer.total * 2 / 1e9)


def deepseek_v3() -> dict:
    # DeepseekV3Config defaults in transformers ("similar configuration to that of the DeepSeek-V3").
    return {"model_type": "deepseek_v3", "architectures": ["DeepseekV3ForCausalLM"],
            "vocab_size": 129280, "hidden_size": 7168, "intermediate_size": 18432,
            "moe_intermediate_size": 2048, "num_hidden_layers": 61, "num_attention_heads": 128,
            "num_key_value_heads": 128, "n_shared_experts": 1, "n_routed_experts": 256,
            "kv_lora_rank": 512, "q_lora_rank": 1536, "qk_rope_head_dim": 64, "v_head_dim": 128,
            "qk_nope_head_dim": 128, "num_experts_per_tok": 8, "first_k_dense_replace": 3,
            "moe_layer_freq": 1, "hidden_act": "silu", "tie_word_embeddings": False,
            "torch_dtype": "bfloat16"}


def test_deepseek_v3_mla_moe():
    a, _ = analyse_hf_config(deepseek_v3())
    assert [x.kind for x in a.layers].count("dense") == 3
    assert a.attention == "mla" and a.kv_elements_per_token == 512 + 64
    # deepseek-ai/DeepSeek-V3 README_WEIGHTS.md: main model 671B total, 36.6B activated
    # (the activated figure includes the 0.9B output head, not the input embedding).
    total = a.params_total + a.embedding_params + a.lm_head_params
    active = a.params_active + a.lm_head_params
    assert abs(total / 671e9 - 1) < 0.01
    assert abs(active / 36.6e9 - 1) < 0.02
    model, notices = convert(deepseek_v3())
    assert "num_heads" not in model and "ffn_dim" not in model
    assert model["kv_gb_per_sample_layer"] == pytest.approx(4096 * 576 * 2 / 1e9)
    assert any("latent attention" in n for n in notices)
    assert any("layers differ (58 MoE, 3 dense)" in n for n in notices)
    colgen_load(model)


# ---- explicit head_dim ---------------------------------------------------------------------------

def test_explicit_head_dim():
    c = {"model_type": "llama", "num_hidden_layers": 4, "hidden_size": 2048,
         "intermediate_size": 8192, "num_attention_heads": 32, "num_key_value_heads": 8,
         "head_dim": 128, "torch_dtype": "bfloat16", "vocab_size": 1000}   # synthetic shapes
    model, notices = convert(c, seq_len=1000)
    q, kv = 32 * 128, 8 * 128
    params = 2048 * q + 2 * 2048 * kv + q * 2048 + 3 * 2048 * 8192
    assert "ffn_dim" not in model
    assert model["weight_gb_per_layer"] == pytest.approx(params * 2 / 1e9)
    assert model["kv_gb_per_sample_layer"] == pytest.approx(2 * 1000 * kv * 2 / 1e9)
    assert any("head_dim 128 != hidden_size" in n for n in notices)
    assert colgen_load(model).model.params_per_layer == pytest.approx(params)
    # head_dim equal to d/heads stays in shape mode
    same = c | {"head_dim": 64}
    model2, _ = convert(same)
    assert model2["ffn_dim"] == 8192 and "weight_gb_per_layer" not in model2


def test_explicit_head_dim_heads_not_dividing_hidden():
    c = {"model_type": "llama", "num_hidden_layers": 2, "hidden_size": 2304,
         "intermediate_size": 9216, "num_attention_heads": 10, "num_key_value_heads": 5,
         "head_dim": 256, "torch_dtype": "float32"}                         # synthetic shapes
    model, notices = convert(c)
    assert "num_heads" not in model and model["bytes_per_element"] == 4
    assert any("left out of the block" in n for n in notices)
    colgen_load(model)


# ---- dtype and name ------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype,nbytes", [("float32", 4), ("float16", 2), ("bfloat16", 2),
                                          ("torch.bfloat16", 2), ("float8_e4m3fn", 1),
                                          ("float8_e5m2", 1)])
def test_dtypes(dtype, nbytes):
    model, _ = convert(cfg("llama-2-7b") | {"torch_dtype": dtype})
    assert model["bytes_per_element"] == nbytes


def test_name_fallbacks():
    c = cfg("llama-2-7b")
    del c["_name_or_path"]
    assert convert(c)[0]["name"] == "LlamaForCausalLM"
    del c["architectures"]
    assert convert(c)[0]["name"] == "llama"


def test_unknown_model_type_is_flagged():
    c = cfg("llama-2-7b") | {"model_type": "somethingnew", "hidden_act": "gelu"}
    model, notices = convert(c)
    assert model["gated_ffn"] is False
    assert any("somethingnew" in n and "assumed gated_ffn = False" in n for n in notices)


def test_quantization_notice():
    _, notices = convert(cfg("llama-3.1-405b") | {"quantization_config": {"quant_method": "fbgemm_fp8"}})
    assert any("quantization_config" in n for n in notices)


def test_input_not_mutated():
    c = cfg("mixtral-8x7b-instruct-v0.1")
    before = copy.deepcopy(c)
    convert(c)
    assert c == before


# ---- bad inputs ------------------------------------------------------------------------------------

def _raises(config, field, **kw):
    with pytest.raises(InputError) as e:
        model_from_hf_config(config, seq_len=kw.get("seq_len", 4096),
                             batch_size=kw.get("batch_size", 8), source="x.json")
    assert isinstance(e.value, HFConfigError)
    msg = str(e.value)
    assert msg.startswith("x.json: ") and field in msg and "; " in msg and "\n" not in msg, msg
    return msg


@pytest.mark.parametrize("key", ["num_hidden_layers", "hidden_size", "num_attention_heads",
                                 "intermediate_size"])
def test_missing_required(key):
    c = cfg("llama-2-7b")
    del c[key]
    assert "missing" in _raises(c, key)


@pytest.mark.parametrize("key,value,what", [
    ("hidden_size", 0, ">= 1"), ("num_hidden_layers", -2, ">= 1"),
    ("hidden_size", 4096.0, "integer"), ("intermediate_size", "11008", "integer"),
    ("num_attention_heads", True, "integer"), ("num_key_value_heads", 0, ">= 1"),
    ("head_dim", 0.5, "integer")])
def test_bad_values(key, value, what):
    assert what in _raises(cfg("llama-2-7b") | {key: value}, key)


def test_heads_not_dividing_hidden():
    assert "does not divide hidden_size" in _raises(
        cfg("llama-2-7b") | {"num_attention_heads": 30, "num_key_value_heads": 30},
        "num_attention_heads")


def test_kv_heads_not_dividing_heads():
    assert "does not divide num_attention_heads" in _raises(
        cfg("llama-2-7b") | {"num_key_value_heads": 5}, "num_key_value_heads")
    _raises(cfg("llama-2-7b") | {"num_key_value_heads": 64}, "num_key_value_heads")


def test_bad_dtype():
    assert "unknown dtype" in _raises(cfg("llama-2-7b") | {"torch_dtype": "int4"}, "torch_dtype")


def test_moe_bad_fields():
    c = cfg("mixtral-8x7b-instruct-v0.1")
    assert "exceeds" in _raises(c | {"num_experts_per_tok": 9}, "num_experts_per_tok")
    c2 = dict(c)
    del c2["num_experts_per_tok"]
    _raises(c2, "num_experts_per_tok")
    assert "list" in _raises(qwen15_moe_a27b() | {"mlp_only_layers": "0,1"}, "mlp_only_layers")


def test_bad_arguments():
    _raises(cfg("llama-2-7b"), "seq_len", seq_len=0)
    _raises(cfg("llama-2-7b"), "seq_len", seq_len=2048.0)
    _raises(cfg("llama-2-7b"), "batch_size", batch_size=-1)
    _raises(cfg("llama-2-7b"), "batch_size", batch_size=math.nan)
    _raises(cfg("llama-2-7b"), "batch_size", batch_size=True)


def test_not_a_dict_and_nested_text_config():
    _raises([1, 2], "(top level)")
    _raises({"model_type": "llava", "text_config": cfg("llama-2-7b")}, "text_config")


def test_model_block_is_json_serialisable():
    for name in MODELS:
        json.dumps(convert(cfg(name))[0])


# ---- Llama 3.1 FFN widths from Meta's model args ---------------------------------------------

def _llama_ffn(dim: int, multiplier: float | None, multiple_of: int) -> int:
    # FeedForward in Meta's reference model.py (hidden_dim passed in as 4 * dim).
    hidden = int(2 * (4 * dim) / 3)
    if multiplier:
        hidden = int(multiplier * hidden)
    return multiple_of * ((hidden + multiple_of - 1) // multiple_of)


@pytest.mark.parametrize("name,dim,mult,multiple_of", [
    ("llama-3.1-8b", 4096, 1.3, 1024), ("llama-3.1-70b-instruct", 8192, 1.3, 4096),
    ("llama-3.1-405b", 16384, 1.2, 4096)])
def test_llama31_ffn_width_matches_meta_model_args(name, dim, mult, multiple_of):
    # model_args from meta-llama/llama-models models/llama3_1/api/sku_list.py
    assert cfg(name)["intermediate_size"] == _llama_ffn(dim, mult, multiple_of)


# ---- instances that name a config.json, and colgen model -----------------------------------------

def _doc(model: dict) -> dict:
    return {"model": model, "gpu_types": {"H100": {"catalogue": "H100-SXM"}},
            "cluster": {"gpus": [{"type": "H100", "count": 2}], "bandwidth_gbps": [[0, 10], [10, 0]]},
            "parallelism": {"max_gpus_per_segment": 2}}


def test_shipped_hf_instance_loads_its_config():
    from colgen.model.instance import load_instance

    inst = load_instance(INSTANCES / "hf-llama-3.1-70b.json")
    block, _ = model_from_hf_config(cfg("llama-3.1-70b-instruct"), seq_len=8192, batch_size=64)
    same = colgen_load(block | {"name": "Llama-3.1-70B-Instruct"}).model
    assert inst.model == same
    assert inst.model_source == "models/llama-3.1-70b-instruct/config.json"
    assert "hf_config" not in inst.spec["model"]        # the document stands alone (to_json, smaller-k)


def test_hf_config_path_is_relative_to_the_instance_file(tmp_path):
    from colgen.model.instance import load_instance

    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text(json.dumps(cfg("llama-2-7b")))
    (tmp_path / "i.json").write_text(json.dumps(_doc({"hf_config": "m/config.json", "seq_len": 128,
                                                       "batch_size": 4, "bytes_per_element": 1})))
    inst = load_instance(tmp_path / "i.json")
    assert inst.model.num_layers == 32 and inst.model.bytes_per_element == 1
    assert inst.model.name == "meta-llama/Llama-2-7b-hf"
    assert inst.model.weight_gb_per_layer == pytest.approx(202_375_168 / 1e9)


@pytest.mark.parametrize("model,field,words", [
    ({"hf_config": "nowhere/config.json", "seq_len": 8, "batch_size": 2}, "model.hf_config", "cannot read"),
    ({"hf_config": "models/llama-2-7b/config.json", "seq_len": 8, "batch_size": 2, "ffn_dim": 3},
     "model.ffn_dim", "comes from the Hugging Face config"),
    ({"hf_config": "models/llama-2-7b/config.json", "batch_size": 2}, "model", "seq_len"),
    ({"seq_len": 8, "batch_size": 2}, "model", "num_layers"),
])
def test_hf_instance_errors_name_the_field(model, field, words):
    with pytest.raises(InputError) as e:
        instance_from_dict(_doc(model), base=INSTANCES)
    assert e.value.field == field and words in str(e.value), str(e.value)


def test_hub_ids_need_huggingface_hub_or_say_why(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "huggingface_hub", None)      # as if not installed
    with pytest.raises(InputError, match="needs huggingface_hub"):
        load_hf_config("hf:meta-llama/Llama-2-7b-hf")


@pytest.mark.parametrize("name", MODELS)
def test_colgen_model_prints_every_shipped_config(name, capsys):
    from colgen.cli.main import main

    path = str(INSTANCES / "models" / name / "config.json")
    assert main(["model", path, "--seq-len", "2048", "--batch-size", "8"]) == 0
    out = capsys.readouterr().out
    a, _ = analyse_hf_config(cfg(name))
    assert f"{a.num_layers} decoder layers" in out and "bytes per element: 2" in out
    assert ("mixture of experts" in out) == (a.moe is not None)
    assert ("grouped-query" in out) == (a.num_kv_heads is not None and a.num_kv_heads < a.num_heads)
    assert main(["model", path, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["model"]["num_layers"] == a.num_layers and data["notices"]


def test_hub_ids_go_through_huggingface_hub(monkeypatch, tmp_path):
    import sys
    import types

    asked = []

    def hf_hub_download(repo_id, filename):          # what huggingface_hub returns: a local cached path
        asked.append((repo_id, filename))
        return str(INSTANCES / "models" / "llama-2-7b" / filename)

    monkeypatch.setitem(sys.modules, "huggingface_hub", types.SimpleNamespace(hf_hub_download=hf_hub_download))
    inst = instance_from_dict(_doc({"hf_config": "hf:meta-llama/Llama-2-7b-hf", "seq_len": 64, "batch_size": 2}))
    assert asked == [("meta-llama/Llama-2-7b-hf", "config.json")] and inst.model.num_layers == 32

    def offline(repo_id, filename):
        raise OSError("We couldn't connect to 'https://huggingface.co'\nmore lines")

    monkeypatch.setitem(sys.modules, "huggingface_hub", types.SimpleNamespace(hf_hub_download=offline))
    with pytest.raises(InputError, match=r"cannot fetch config\.json") as e:
        load_hf_config("hf:meta-llama/Llama-2-7b-hf")
    assert "\n" not in str(e.value)
