"""Hugging Face ``config.json`` -> colgen ``model`` block.

An instance's model may be given as ``{"hf_config": "path/config.json", "seq_len": ..., "batch_size":
...}`` (the path relative to the instance file; ``"hf:ORG/NAME"`` fetches the file with
``huggingface_hub`` where it is installed and online). :func:`resolve_model` turns that into an
ordinary model block; ``colgen model CONFIG.json`` prints it. Choices and formulas: docs/hf.md.

The block holds only fields of the instance schema, so it can be pasted into an instance as is.
Two shapes:

* **shape mode** - dense model whose attention is the standard one (``head_dim`` absent or equal
  to ``hidden_size / num_attention_heads``): the block gives ``ffn_dim``, ``num_heads``,
  ``num_kv_heads``, ``gated_ffn`` and lets colgen derive ``weight_gb_per_layer``,
  ``kv_gb_per_sample_layer`` and ``params_per_layer`` with its own formulas (one source of truth).
* **explicit mode** - anything the formula ``P = 2 d^2 + 2 d d_kv + f d ffn_dim`` does not
  describe (explicit ``head_dim``, mixture of experts, DeepSeek multi-head latent attention): the
  block gives ``weight_gb_per_layer`` and ``kv_gb_per_sample_layer`` and *omits* ``ffn_dim``,
  because colgen computes ``params_per_layer`` from the shape formula whenever ``ffn_dim`` is
  present (``colgen/model/instance.py``); without it, colgen uses
  ``params_per_layer = weight_gb_per_layer * 1e9 / bytes_per_element``, i.e. this module's count.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from colgen.errors import InputError
from colgen.jsonio import read_json

__all__ = [
    "DTYPE_BYTES",
    "GATED_MODEL_TYPES",
    "HF_FIELDS",
    "Analysis",
    "HFConfigError",
    "LayerParams",
    "analyse_hf_config",
    "load_hf_config",
    "model_from_hf_config",
    "resolve_model",
]

# torch dtype name (as written in config.json, with or without the "torch." prefix) -> bytes.
DTYPE_BYTES: dict[str, int] = {
    "float64": 8, "double": 8,
    "float32": 4, "float": 4, "fp32": 4,
    "float16": 2, "half": 2, "fp16": 2,
    "bfloat16": 2, "bf16": 2,
    "float8_e4m3fn": 1, "float8_e4m3fnuz": 1, "float8_e5m2": 1, "float8_e5m2fnuz": 1,
}

# model_type values whose Hugging Face decoder MLP is gated, i.e. three matrices
# (gate_proj, up_proj, down_proj; experts: packed gate_up_proj + down_proj) whatever ``hidden_act`` says.
# With hidden_act "silu" this is SwiGLU.  Evidence per family is listed in NOTES.md.
GATED_MODEL_TYPES = frozenset(
    {"llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "deepseek_v2", "deepseek_v3"})

# Activations for which an unknown model_type is *assumed* to have a gated FFN.
_GATED_ACTS = frozenset({"silu", "swish", "swiglu"})


class HFConfigError(InputError):
    """A config.json (or an argument) that cannot be converted; says which field and how to fix it."""

    def __init__(self, source: str, field: str, problem: str, fix: str):
        super().__init__(field, problem, fix, source)


@dataclass(frozen=True)
class LayerParams:
    """Parameters of one decoder layer, matrices only (norms and biases are reported separately)."""

    kind: str                # "dense" or "moe"
    attention: int           # q, k, v, o projections (MLA: the low-rank projections)
    ffn_total: int           # dense MLP, or every routed expert + shared experts (memory)
    ffn_active: int          # what one token goes through (dense: = ffn_total)
    router: int              # gate matrices of an MoE layer (0 for dense layers)

    @property
    def total(self) -> int:
        return self.attention + self.ffn_total + self.router

    @property
    def active(self) -> int:
        return self.attention + self.ffn_active + self.router


@dataclass(frozen=True)
class Analysis:
    """What :func:`analyse_hf_config` reads out of a config.json."""

    name: str
    name_from: str
    model_type: str | None
    num_layers: int
    d_model: int
    num_heads: int
    num_kv_heads: int | None          # None for MLA (no per-head KV cache)
    head_dim: int | None              # None for MLA
    attention: str                    # "mha/gqa" or "mla"
    ffn_dim: int | None               # dense FFN width (None if every layer is MoE)
    gated_ffn: bool
    bytes_per_element: float
    layers: tuple[LayerParams, ...]   # one entry per decoder layer, in order
    kv_elements_per_token: int        # cached elements per token per layer (K and V)
    norm_params_per_layer: int        # ignored (not in the weight)
    bias_params_per_layer: int        # ignored (not in the weight)
    embedding_params: int             # input embedding (not a decoder layer)
    lm_head_params: int               # output head, 0 when tied (not a decoder layer)
    moe: Mapping[str, Any] | None     # MoE fields read, None for dense models
    standard_shapes: bool             # True when colgen's shape formula reproduces the weights
    dtype_name: str | None = None     # the torch_dtype bytes_per_element came from (None: not from it)

    @property
    def max_layer(self) -> LayerParams:
        return max(self.layers, key=lambda layer: layer.total)

    @property
    def params_total(self) -> int:
        """All decoder-layer matrices (no norms, biases, embeddings or head)."""
        return sum(layer.total for layer in self.layers)

    @property
    def params_active(self) -> int:
        return sum(layer.active for layer in self.layers)


# --------------------------------------------------------------------------------------------
# Field readers


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _int(cfg: Mapping[str, Any], key: str, src: str, *, fix: str, minimum: int = 1,
         default: int | None = None, required: bool = True) -> int | None:
    v = cfg.get(key)
    if v is None:
        if required and default is None:
            raise HFConfigError(src, key, "missing", fix)
        return default
    if not _is_int(v):
        raise HFConfigError(src, key, f"must be an integer, got {v!r} ({type(v).__name__})",
                            f"write {key} as a JSON integer, e.g. 4096 (not 4096.0 or \"4096\")")
    if v < minimum:
        raise HFConfigError(src, key, f"must be >= {minimum}, got {v}", fix)
    return v


def _dtype_bytes(cfg: Mapping[str, Any], src: str, notices: list[str]) -> float:
    key = "torch_dtype" if cfg.get("torch_dtype") is not None else "dtype"
    raw = cfg.get(key)
    if raw is None:
        notices.append("torch_dtype missing: bytes_per_element = 2 assumed (16-bit weights and KV "
                       "cache); set bytes_per_element by hand if the model is served in another precision")
        return 2.0
    if not isinstance(raw, str):
        raise HFConfigError(src, key, f"must be a dtype name string, got {raw!r}",
                            f"use one of {', '.join(sorted(DTYPE_BYTES))}")
    name = raw.strip().lower().removeprefix("torch.")
    if name not in DTYPE_BYTES:
        raise HFConfigError(src, key, f"unknown dtype {raw!r}",
                            f"use one of {', '.join(sorted(DTYPE_BYTES))}, or set bytes_per_element "
                            "in the instance by hand")
    if key == "dtype":
        notices.append(f"dtype {raw!r} read from the 'dtype' key (no 'torch_dtype' in the config)")
    return float(DTYPE_BYTES[name])


def _name(cfg: Mapping[str, Any]) -> tuple[str, str]:
    n = cfg.get("_name_or_path")
    if isinstance(n, str) and n.strip():
        return n.strip(), "_name_or_path"
    arch = cfg.get("architectures")
    if isinstance(arch, list) and arch and isinstance(arch[0], str) and arch[0]:
        return arch[0], "architectures[0]"
    mt = cfg.get("model_type")
    if isinstance(mt, str) and mt:
        return mt, "model_type"
    return "(unnamed)", "nothing (no _name_or_path, architectures or model_type)"


def _gated(cfg: Mapping[str, Any], model_type: str | None, notices: list[str]) -> bool:
    act = cfg.get("hidden_act")
    act_s = act.lower() if isinstance(act, str) else None
    if model_type in GATED_MODEL_TYPES:
        if act_s is None:
            notices.append(f"hidden_act missing: the {model_type} MLP is gated (3 matrices) regardless")
        elif act_s != "silu":
            notices.append(f"hidden_act {act!r}: the {model_type} MLP is still gated (gate/up/down, "
                           "3 matrices); only the activation differs from SwiGLU")
        return True
    gated = act_s is None or act_s in _GATED_ACTS
    notices.append(f"model_type {model_type!r} is not one whose MLP was checked "
                   f"({', '.join(sorted(GATED_MODEL_TYPES))}); assumed gated_ffn = {gated} from "
                   f"hidden_act {act!r}: check the model's MLP (3 matrices = gated, 2 = not) and "
                   "override gated_ffn if wrong")
    return gated


# --------------------------------------------------------------------------------------------
# Analysis


def analyse_hf_config(config: Mapping[str, Any], *, source: str = "config.json",
                      bytes_per_element: float | None = None) -> tuple[Analysis, list[str]]:
    """Read a Hugging Face config.json (as a dict) into a per-layer parameter breakdown.

    ``bytes_per_element``, when given, replaces what ``torch_dtype`` says (e.g. a model served in FP8).

    >>> a, _ = analyse_hf_config(load_hf_config("instances/models/llama-2-7b/config.json"))
    >>> a.num_layers, a.num_kv_heads, a.gated_ffn, a.layers[0].total
    (32, 32, True, 202375168)
    """
    src = source
    if not isinstance(config, Mapping):
        raise HFConfigError(src, "(top level)", f"must be a JSON object, got {type(config).__name__}",
                            "pass the parsed contents of config.json (a dict)")
    notices: list[str] = []
    if "num_hidden_layers" not in config and isinstance(config.get("text_config"), Mapping):
        raise HFConfigError(src, "text_config", "the decoder fields are nested under text_config "
                            "(multimodal config)", "pass config['text_config'] instead")
    model_type = config.get("model_type") if isinstance(config.get("model_type"), str) else None
    name, name_from = _name(config)

    M = _int(config, "num_hidden_layers", src,
             fix="give the number of decoder layers (this converter reads Llama-style field names)")
    d = _int(config, "hidden_size", src, fix="give the model width (elements per token between layers)")
    H = _int(config, "num_attention_heads", src, fix="give the number of query heads")
    dtype_name = None
    if bytes_per_element is None:
        bpe = _dtype_bytes(config, src, notices)
        raw = config.get("torch_dtype", config.get("dtype"))
        dtype_name = raw if isinstance(raw, str) else None
    else:
        bpe = float(bytes_per_element)
        notices.append(f"bytes_per_element {bpe:g} given in the instance (torch_dtype "
                       f"{config.get('torch_dtype')!r} not used)")
    gated = _gated(config, model_type, notices)
    f_mats = 3 if gated else 2

    # ---- attention ------------------------------------------------------------------------
    mla = config.get("kv_lora_rank") is not None
    if mla:
        attention = "mla"
        kv_rank = _int(config, "kv_lora_rank", src, fix="give the MLA key/value latent rank")
        q_rank = _int(config, "q_lora_rank", src, required=False,
                      fix="give the MLA query rank, or null for a full-rank query projection")
        nope = _int(config, "qk_nope_head_dim", src, fix="give the MLA non-rotary q/k head size")
        rope = _int(config, "qk_rope_head_dim", src, fix="give the MLA rotary q/k head size")
        v_hd = _int(config, "v_head_dim", src, fix="give the MLA value head size")
        qk_hd = nope + rope
        q_params = d * H * qk_hd if q_rank is None else d * q_rank + q_rank * H * qk_hd
        attn = (q_params
                + d * (kv_rank + rope)              # kv_a_proj_with_mqa
                + kv_rank * H * (nope + v_hd)       # kv_b_proj
                + H * v_hd * d)                     # o_proj
        kv_elems = kv_rank + rope
        KV, head_dim = None, None
        norms = 2 * d + kv_rank + (q_rank or 0)
        notices.append(
            f"multi-head latent attention (DeepSeek MLA: q_lora_rank={q_rank}, kv_lora_rank={kv_rank}, "
            f"qk_nope/rope_head_dim={nope}/{rope}, v_head_dim={v_hd}): attention params per layer = "
            f"{attn:,}; KV cache per token per layer = kv_lora_rank + qk_rope_head_dim = {kv_elems} "
            f"elements (the compressed latent that MLA engines cache; an implementation that caches "
            f"decompressed K and V holds H*(qk_nope+qk_rope) + H*v_head_dim = {H * qk_hd + H * v_hd} "
            "instead); the roofline's attention-score FLOPs (2 d seq) do not model MLA")
    else:
        attention = "mha/gqa"
        if config.get("num_key_value_heads") is None:
            notices.append(f"num_key_value_heads missing: = num_attention_heads = {H} (multi-head attention)")
        KV = _int(config, "num_key_value_heads", src, default=H,
                  fix="give the number of key/value heads (grouped-query attention)")
        if H % KV:
            raise HFConfigError(src, "num_key_value_heads",
                                f"{KV} does not divide num_attention_heads {H}",
                                "give the key/value head count; each KV head serves num_attention_heads/"
                                "num_key_value_heads query heads")
        head_dim = _int(config, "head_dim", src, required=False,
                        fix="give the per-head size, or drop head_dim to use hidden_size/num_attention_heads")
        if head_dim is None:
            if d % H:
                raise HFConfigError(src, "num_attention_heads",
                                    f"{H} does not divide hidden_size {d} and head_dim is absent",
                                    "give head_dim (the per-head size) or the right head count")
            head_dim = d // H
        q_dim, kv_dim = H * head_dim, KV * head_dim
        attn = d * q_dim + 2 * d * kv_dim + q_dim * d
        kv_elems = 2 * kv_dim
        norms = 2 * d
        if q_dim != d:
            notices.append(
                f"head_dim {head_dim} != hidden_size/num_attention_heads ({d}/{H}): attention projections "
                f"use num_heads*head_dim = {q_dim} (q, o) and num_kv_heads*head_dim = {kv_dim} (k, v); "
                "weight_gb_per_layer and kv_gb_per_sample_layer are given explicitly because colgen's "
                "P formula assumes head_dim = d/num_heads; the roofline's attention-score FLOPs "
                "(2 d seq per token) still use d_model")

    # ---- feed-forward / experts --------------------------------------------------------------
    def dense_ffn(width: int) -> int:
        return f_mats * d * width

    moe: dict[str, Any] | None = None
    if model_type == "mixtral" or config.get("num_local_experts") is not None:
        key_e = "num_experts" if config.get("num_local_experts") is None \
            and config.get("num_experts") is not None else "num_local_experts"
        E = _int(config, key_e, src, fix="give the number of experts per layer")
        k = _int(config, "num_experts_per_tok", src, fix="give the number of experts each token is routed to")
        fe = _int(config, "intermediate_size", src, fix="give the expert FFN width (intermediate_size)")
        moe = {"family": "mixtral", "experts": E, "active": k, "expert_ffn_dim": fe,
               "shared_ffn_dim": 0, "fields": f"{key_e}, num_experts_per_tok, intermediate_size"}
        moe_layer = [True] * M
        dense_width = None
    elif config.get("n_routed_experts") is not None:
        E = _int(config, "n_routed_experts", src, fix="give the number of routed experts")
        k = _int(config, "num_experts_per_tok", src, fix="give the number of experts each token is routed to")
        fe = _int(config, "moe_intermediate_size", src, fix="give the routed-expert FFN width")
        ns = _int(config, "n_shared_experts", src, minimum=0, default=0, required=False,
                  fix="give the number of shared experts (0 if none)")
        first = _int(config, "first_k_dense_replace", src, minimum=0, default=0, required=False,
                     fix="give the number of leading dense layers")
        freq = _int(config, "moe_layer_freq", src, default=1, required=False,
                    fix="give the MoE layer period (1 = every layer after the dense ones)")
        moe_layer = [i >= first and i % freq == 0 for i in range(M)]
        moe = {"family": "deepseek", "experts": E, "active": k, "expert_ffn_dim": fe,
               "shared_ffn_dim": ns * fe, "first_k_dense_replace": first, "moe_layer_freq": freq,
               "fields": "n_routed_experts, num_experts_per_tok, moe_intermediate_size, "
                         "n_shared_experts, first_k_dense_replace, moe_layer_freq"}
        dense_width = None
    elif config.get("num_experts") not in (None, 0):
        E = _int(config, "num_experts", src, fix="give the number of experts per layer")
        k = _int(config, "num_experts_per_tok", src, fix="give the number of experts each token is routed to")
        fe = _int(config, "moe_intermediate_size", src, fix="give the expert FFN width")
        fs = _int(config, "shared_expert_intermediate_size", src, minimum=0, default=0, required=False,
                  fix="give the shared-expert FFN width (0 if none)")
        step = _int(config, "decoder_sparse_step", src, default=1, required=False,
                    fix="give the MoE layer period (1 = every layer)")
        only = config.get("mlp_only_layers") or []
        if not isinstance(only, list) or not all(_is_int(i) for i in only):
            raise HFConfigError(src, "mlp_only_layers", f"must be a list of layer indices, got {only!r}",
                                "give a JSON list of integers (0-based), or []")
        moe_layer = [i not in only and (i + 1) % step == 0 for i in range(M)]
        moe = {"family": "qwen_moe", "experts": E, "active": k, "expert_ffn_dim": fe,
               "shared_ffn_dim": fs, "decoder_sparse_step": step, "mlp_only_layers": list(only),
               "fields": "num_experts, num_experts_per_tok, moe_intermediate_size, "
                         "shared_expert_intermediate_size, decoder_sparse_step, mlp_only_layers"}
        dense_width = None
    else:
        moe_layer = [False] * M

    if any(not m for m in moe_layer):
        dense_width = _int(config, "intermediate_size", src,
                           fix="give the FFN width (intermediate_size)")
    layers: list[LayerParams] = []
    for is_moe in moe_layer:
        if not is_moe:
            ffn = dense_ffn(dense_width)
            layers.append(LayerParams("dense", attn, ffn, ffn, 0))
            continue
        E, k, fe, fs = moe["experts"], moe["active"], moe["expert_ffn_dim"], moe["shared_ffn_dim"]
        if k > E:
            raise HFConfigError(src, "num_experts_per_tok", f"{k} exceeds the {E} experts per layer",
                                "give the number of experts each token is routed to (at most the count)")
        shared = dense_ffn(fs) if fs else 0
        router = E * d + (d if moe["family"] == "qwen_moe" and fs else 0)   # + shared_expert_gate
        layers.append(LayerParams("moe", attn, E * dense_ffn(fe) + shared, k * dense_ffn(fe) + shared,
                                  router))

    # ---- small things reported, not modelled ------------------------------------------------
    bias = 0
    if mla:
        pass
    elif model_type in ("qwen2", "qwen2_moe") or config.get("attention_bias") is True \
            or config.get("qkv_bias") is True:
        bias += H * head_dim + 2 * KV * head_dim + (d if config.get("attention_bias") is True else 0)
    if config.get("mlp_bias") is True and dense_width is not None:
        bias += (f_mats - 1) * dense_width + d
    V = config.get("vocab_size")
    emb = V * d if _is_int(V) and V > 0 else 0
    tied = config.get("tie_word_embeddings") is True
    head = 0 if tied else emb

    standard = (moe is None and not mla and head_dim * H == d)
    analysis = Analysis(
        name=name, name_from=name_from, model_type=model_type, num_layers=M, d_model=d,
        num_heads=H, num_kv_heads=KV, head_dim=head_dim, attention=attention,
        ffn_dim=dense_width, gated_ffn=gated, bytes_per_element=bpe, layers=tuple(layers),
        kv_elements_per_token=kv_elems, norm_params_per_layer=norms, bias_params_per_layer=bias,
        embedding_params=emb, lm_head_params=head, moe=moe, standard_shapes=standard,
        dtype_name=dtype_name)
    return analysis, notices


# --------------------------------------------------------------------------------------------
# Conversion


def _gb(x: float) -> str:
    return f"{x:.6g} GB"


def model_from_hf_config(config: Mapping[str, Any], *, seq_len: int, batch_size: float,
                         source: str = "config.json", bytes_per_element: float | None = None,
                         name: str | None = None) -> tuple[dict, list[str]]:
    """Convert a Hugging Face config.json (parsed) into a colgen model block.

    Returns ``(model, notices)``: ``model`` uses only fields of colgen's instance schema;
    ``notices`` say what was assumed, ignored or approximated.  Raises :class:`HFConfigError`
    (an :class:`~colgen.errors.InputError`) naming the offending field and the fix.
    ``bytes_per_element`` and ``name``, when given, replace what the config says.

    >>> config = load_hf_config("instances/models/llama-3.1-8b/config.json")
    >>> block, notices = model_from_hf_config(config, seq_len=4096, batch_size=8)
    >>> block["num_layers"], block["d_model"], block["num_kv_heads"], block["bytes_per_element"]
    (32, 4096, 8, 2.0)
    """
    if not _is_int(seq_len) or seq_len < 1:
        raise HFConfigError(source, "seq_len", f"must be an integer >= 1, got {seq_len!r}",
                            "pass the tokens per sample as a positive integer")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, float)) \
            or not math.isfinite(batch_size) or batch_size <= 0:
        raise HFConfigError(source, "batch_size", f"must be a number > 0, got {batch_size!r}",
                            "pass the samples per pipeline batch as a positive number")

    a, notices = analyse_hf_config(config, source=source, bytes_per_element=bytes_per_element)
    bpe = a.bytes_per_element
    notices.insert(0, f"name {a.name!r} taken from {a.name_from}" if name is None
                   else f"name {name!r} given in the instance")
    model: dict[str, Any] = {
        "name": a.name if name is None else name, "num_layers": a.num_layers, "d_model": a.d_model,
        "bytes_per_element": bpe, "seq_len": seq_len, "batch_size": batch_size,
    }
    big = a.max_layer
    kv_gb = seq_len * a.kv_elements_per_token * bpe / 1e9
    weight_gb = big.total * bpe / 1e9

    if a.standard_shapes:
        model.update(ffn_dim=a.ffn_dim, num_heads=a.num_heads, num_kv_heads=a.num_kv_heads,
                     gated_ffn=a.gated_ffn)
        notices.append(
            f"shape mode: colgen derives P = 2 d^2 + 2 d d_kv + f d ffn_dim = {big.total:,} parameters "
            f"per layer (attention {big.attention:,} + FFN {big.ffn_total:,}), weight_gb_per_layer = "
            f"{_gb(weight_gb)}, kv_gb_per_sample_layer = 2 seq_len d_kv bytes = {_gb(kv_gb)}")
    else:
        model.update(weight_gb_per_layer=weight_gb, kv_gb_per_sample_layer=kv_gb)
        if a.num_kv_heads is not None and a.d_model % a.num_heads == 0:
            model.update(num_heads=a.num_heads, num_kv_heads=a.num_kv_heads)
        elif a.num_kv_heads is not None:
            notices.append(f"num_heads/num_kv_heads left out of the block: colgen requires num_heads "
                           f"to divide d_model ({a.num_heads} does not divide {a.d_model}); they are "
                           "not needed since the weight and KV size are explicit")
        notices.append(
            f"explicit mode: weight_gb_per_layer = {big.total:,} params x {bpe:g} B = {_gb(weight_gb)}, "
            f"kv_gb_per_sample_layer = {_gb(kv_gb)}; ffn_dim is omitted so that colgen takes "
            f"params_per_layer = weight_gb_per_layer*1e9/bytes_per_element = {big.total:,} "
            "(with ffn_dim present it would use its own shape formula instead)")

    if a.moe is not None:
        mo = a.moe
        E, k = mo["experts"], mo["active"]
        n_moe = sum(1 for layer in a.layers if layer.kind == "moe")
        moe_layer = next(layer for layer in a.layers if layer.kind == "moe")
        ratio = moe_layer.total / moe_layer.active
        shared = (f", plus a shared FFN of width {mo['shared_ffn_dim']} that every token uses"
                  if mo["shared_ffn_dim"] else "")
        notices.append(
            f"mixture of experts ({mo['family']} fields: {mo['fields']}): {n_moe} of {a.num_layers} "
            f"layers hold {E} experts of FFN width {mo['expert_ffn_dim']}, each token is routed to "
            f"{k} experts{shared}. Memory counts every expert: weight_gb_per_layer uses "
            f"{moe_layer.total:,} parameters per MoE layer (all {E} experts + router). Compute per token "
            f"uses only {k} experts: {moe_layer.active:,} active parameters per MoE layer. colgen's "
            f"roofline uses params_per_layer for both FLOPs and weight bytes, so its FLOPs over-count "
            f"by {moe_layer.total:,}/{moe_layer.active:,} = {ratio:.2f}x per MoE layer (the expert part "
            f"by {E}/{k}) unless colgen gains a separate active-parameter field; proposed name: "
            f"active_params_per_layer = {moe_layer.active:,} (not emitted: the schema forbids unknown "
            "model fields). Weight bytes: all experts is the right bound once a batch touches every "
            "expert; at very small per-GPU batches fewer experts are read")
        if len({layer.total for layer in a.layers}) > 1:
            totals = [layer.total for layer in a.layers]
            notices.append(
                f"layers differ ({n_moe} MoE, {a.num_layers - n_moe} dense): per-layer parameters "
                f"range {min(totals):,}..{max(totals):,} (mean {sum(totals) / len(totals):,.0f}); "
                "colgen has one weight per layer, so the largest is used (conservative for memory; "
                "over-estimates the dense layers)")

    if a.norm_params_per_layer:
        notices.append(
            f"norms ignored: {a.norm_params_per_layer:,} parameters per layer "
            f"({a.norm_params_per_layer / big.total:.4%} of the layer) are not in the weight")
    if a.bias_params_per_layer:
        notices.append(
            f"biases ignored: {a.bias_params_per_layer:,} parameters per layer "
            f"({a.bias_params_per_layer / big.total:.4%}) are not in the weight")
    if a.embedding_params:
        tied = "tied to the embedding" if not a.lm_head_params else \
            f"{_gb(a.lm_head_params * bpe / 1e9)}"
        notices.append(
            f"embeddings and LM head are not decoder layers and are not placed: input embedding "
            f"{a.embedding_params:,} params = {_gb(a.embedding_params * bpe / 1e9)}, LM head {tied}; "
            "reserve that memory on the first/last stage GPUs (e.g. parallelism.reserved_memory_gb)")
    else:
        notices.append("vocab_size missing or invalid: embedding/LM-head size not reported "
                       "(they are not decoder layers and are not placed anyway)")

    if config.get("quantization_config") is not None:
        notices.append("quantization_config present: bytes_per_element comes from torch_dtype, but "
                       "stored weights may use fewer bits; set weight_gb_per_layer/bytes_per_element "
                       "by hand if so")
    sw = config.get("sliding_window")
    if _is_int(sw) and sw < seq_len and config.get("use_sliding_window", True) is not False:
        notices.append(f"sliding_window {sw} < seq_len {seq_len}: an engine with a rolling KV buffer "
                       f"keeps only {sw} tokens per layer; the KV size here uses the full seq_len "
                       "(conservative)")
    mpe = config.get("max_position_embeddings")
    if _is_int(mpe) and seq_len > mpe:
        notices.append(f"seq_len {seq_len} exceeds max_position_embeddings {mpe}")
    return model, notices


def load_hf_config(path: str | Path) -> dict:
    """Read a config.json file; ``"hf:ORG/NAME"`` downloads the model's config.json from the Hugging
    Face Hub (needs ``huggingface_hub`` and a network; gated models need a token).

    >>> load_hf_config("instances/models/qwen2-72b/config.json")["model_type"]
    'qwen2'
    """
    text = str(path)
    if text.startswith(HUB_PREFIX):
        path = _from_hub(text[len(HUB_PREFIX):])
    data = read_json(path)
    if not isinstance(data, dict):
        raise HFConfigError(str(path), "(top level)", "must be a JSON object", "pass a config.json")
    return data


#: Prefix of a model id on the Hugging Face Hub, in place of a path.
HUB_PREFIX = "hf:"


def _from_hub(repo_id: str) -> Path:
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise InputError(f"{HUB_PREFIX}{repo_id}", "loading a model by id needs huggingface_hub",
                         "pip install 'colgen[hub]', or download config.json and give its path") from None
    try:
        return Path(hf_hub_download(repo_id, "config.json"))
    except Exception as exc:  # offline, unknown or gated repository: one line, the library's words
        raise InputError(f"{HUB_PREFIX}{repo_id}", f"cannot fetch config.json ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''})",
                         "check the id and the network (gated models need `huggingface-cli login`), or give "
                         "the path of a downloaded config.json") from None


#: Fields an instance's model block may hold beside ``hf_config``; the rest come from the config.
HF_FIELDS = ("hf_config", "name", "seq_len", "batch_size", "bytes_per_element")


def resolve_model(block: Mapping[str, Any], base: str | Path | None = None) -> tuple[dict, list[str]]:
    """The ordinary model block of an instance's ``{"hf_config": ..., "seq_len": ..., "batch_size":
    ...}`` (optionally with ``name`` and ``bytes_per_element``), and the converter's notices.
    A relative path is taken relative to ``base`` (the instance file's folder).

    >>> block, _ = resolve_model({"hf_config": "models/mistral-7b-v0.1/config.json", "seq_len": 2048,
    ...                           "batch_size": 16}, base="instances")
    >>> block["name"], block["ffn_dim"], block["num_kv_heads"]
    ('MistralForCausalLM', 14336, 8)
    """
    for key in block:
        if key not in HF_FIELDS:
            raise InputError(f"model.{key}", "comes from the Hugging Face config when hf_config is given",
                             f"remove it (beside hf_config a model may give {', '.join(HF_FIELDS[1:])})")
    ref = str(block["hf_config"])
    if ref.startswith(HUB_PREFIX):
        path: str | Path = ref
    else:
        path = Path(ref)
        if base is not None and not path.is_absolute():
            path = Path(base) / path
    try:
        config = load_hf_config(path)
        return model_from_hf_config(config, seq_len=block["seq_len"], batch_size=block["batch_size"],
                                    source=str(path), bytes_per_element=block.get("bytes_per_element"),
                                    name=block.get("name"))
    except InputError as exc:
        if exc.source is None and exc.field == str(path):    # unreadable: name the field that points at it
            raise InputError("model.hf_config", f"'{path}': {exc.problem}", exc.fix) from None
        raise
