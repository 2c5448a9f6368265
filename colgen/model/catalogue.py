"""Catalogue of common data-centre GPUs: memory, peak dense FP16/BF16 tensor TFLOPS, memory GB/s.

Numbers are the vendors' data-sheet figures *without* structured sparsity (where a sheet quotes only
the sparse figure it is halved). They feed the ``roofline`` performance model; any field can be
overridden per instance (``gpu_types.<name>.memory_gb`` / ``performance.tflops`` / ``hbm_gbps``).
"""

from __future__ import annotations

from dataclasses import dataclass

from colgen.errors import InputError


@dataclass(frozen=True)
class CatalogueEntry:
    name: str
    memory_gb: float
    tflops: float
    hbm_gbps: float


_ENTRIES = (
    # NVIDIA H100 Tensor Core GPU data sheet (H100 SXM): BF16 1,979 TFLOPS with sparsity,
    # 80 GB HBM3, 3.35 TB/s. https://resources.nvidia.com/en-us-tensor-core/nvidia-tensor-core-gpu-datasheet
    CatalogueEntry("H100-SXM", 80, 989.4, 3350),
    # Same data sheet, H100 PCIe (later "H100 NVL" sheet differs): BF16 1,513 TFLOPS sparse, 2.0 TB/s.
    CatalogueEntry("H100-PCIe", 80, 756.0, 2000),
    # NVIDIA H200 Tensor Core GPU data sheet (H200 SXM): BF16 1,979 TFLOPS sparse, 141 GB HBM3e,
    # 4.8 TB/s. https://www.nvidia.com/en-us/data-center/h200/
    CatalogueEntry("H200", 141, 989.4, 4800),
    # NVIDIA A100 Tensor Core GPU data sheet: BF16 312 TFLOPS dense; 80 GB HBM2e at 2,039 GB/s (SXM).
    # https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf
    CatalogueEntry("A100-80GB", 80, 312.0, 2039),
    # Same data sheet: A100 40 GB HBM2 at 1,555 GB/s.
    CatalogueEntry("A100-40GB", 40, 312.0, 1555),
    # NVIDIA L40S data sheet: BF16 362.05 TFLOPS dense (733 with sparsity), 48 GB GDDR6 at 864 GB/s.
    # https://www.nvidia.com/en-us/data-center/l40s/
    CatalogueEntry("L40S", 48, 362.05, 864),
    # NVIDIA L40 data sheet: BF16 362.1 TFLOPS with sparsity, 48 GB GDDR6 at 864 GB/s.
    # https://www.nvidia.com/en-us/data-center/l40/
    CatalogueEntry("L40", 48, 181.05, 864),
    # NVIDIA L20 product brief: FP16 tensor 119.5 TFLOPS dense, 48 GB GDDR6 at 864 GB/s.
    CatalogueEntry("L20", 48, 119.5, 864),
    # NVIDIA L4 data sheet: BF16 242 TFLOPS with sparsity, 24 GB GDDR6 at 300 GB/s.
    # https://www.nvidia.com/en-us/data-center/l4/
    CatalogueEntry("L4", 24, 121.0, 300),
    # NVIDIA A10 data sheet: BF16 125 TFLOPS dense (250 sparse), 24 GB GDDR6 at 600 GB/s.
    # https://www.nvidia.com/en-us/data-center/products/a10-gpu/
    CatalogueEntry("A10", 24, 125.0, 600),
    # AWS EC2 G5 (A10G): 24 GB GDDR6 at 600 GB/s. AWS publishes no tensor TFLOPS for the A10G; about
    # 70 dense FP16 is the figure in Baseten's "NVIDIA A10 vs A10G for ML model inference" (approximate:
    # override performance.tflops when you have a measurement).
    CatalogueEntry("A10G", 24, 70.0, 600),
    # NVIDIA V100 data sheet (SXM2): 125 TFLOPS tensor (FP16 with FP32 accumulate), 900 GB/s HBM2.
    # https://images.nvidia.com/content/technologies/volta/pdf/volta-v100-datasheet-update-us-1165301-r5.pdf
    CatalogueEntry("V100-16GB", 16, 125.0, 900),
    CatalogueEntry("V100-32GB", 32, 125.0, 900),
    # NVIDIA T4 data sheet: 65 TFLOPS mixed FP16/FP32, 16 GB GDDR6 at 320 GB/s.
    # https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/tesla-t4/t4-tensor-core-datasheet-951643.pdf
    CatalogueEntry("T4", 16, 65.0, 320),
    # NVIDIA Ada Lovelace architecture whitepaper, GeForce RTX 4090: FP16 tensor with FP32
    # accumulate 165.2 TFLOPS dense, 24 GB GDDR6X at 1,008 GB/s.
    CatalogueEntry("RTX-4090", 24, 165.2, 1008),
    # NVIDIA A40: 48 GB GDDR6 with ECC at 696 GB/s from the NVIDIA A40 product brief PB-09976-001_v04 (read
    # in a third-party copy, readkong.com, and a reseller's table reproducing NVIDIA's spec); BF16 149.7
    # TFLOPS dense (299.3 with sparsity) from a third-party spec table (hmc-tech.com), consistent with the
    # brief. The original solver's table: 150 TFLOPS, 696 GB/s.
    CatalogueEntry("A40", 48, 149.7, 696),
    # NVIDIA RTX A6000: 48 GB GDDR6 with ECC at 768 GB/s (NVIDIA's spec table as reproduced by
    # servethehome.com); FP16/BF16 tensor 154.8 TFLOPS dense (309.7 sparse) from llmperf.net citing
    # Microway (third-party). The vendor data sheet itself was not available.
    CatalogueEntry("RTX-A6000", 48, 154.8, 768),
    # NVIDIA B200 (HGX B200, 1000 W): FP16/BF16 tensor 2,250 TFLOPS dense (4,500 sparse), 8 TB/s, from
    # glennklockwood.com/garden/processors/B200 (third-party, citing NVIDIA's Blackwell material); memory
    # 180 GB usable per GPU (DGX/HGX B200: 1,440 GB for 8 GPUs; Vultr measured 179 GB), 192 GB being the
    # physical HBM3e (AWS and GCP list 192): give memory_gb to override. NVIDIA's data sheet was not
    # available.
    CatalogueEntry("B200", 180, 2250.0, 8000),
    # NVIDIA Tesla K80, one of its two GK210 GPUs (as clouds expose it): 12 GB GDDR5 at 240 GB/s; no tensor
    # cores and no fast FP16, so the figure is FP32: 4.37 TFLOPS (the board's 8.74 at boost, halved), from
    # AnandTech's launch table and cnews.cz (third-party; NVIDIA's board spec BD-07317-001 was not read).
    # The original solver's cloud table lists 8.73 TFLOPS per GPU, the whole board's figure.
    CatalogueEntry("K80", 12, 4.37, 240),
    # AMD Instinct MI300X data sheet: FP16/BF16 1,307.4 TFLOPS dense, 192 GB HBM3 at 5.3 TB/s.
    # https://www.amd.com/en/products/accelerators/instinct/mi300/mi300x.html
    CatalogueEntry("MI300X", 192, 1307.4, 5300),
)

CATALOGUE: dict[str, CatalogueEntry] = {e.name: e for e in _ENTRIES}

#: Short names a user (or a legacy configuration) may write; ``None`` means "choose by memory".
_FAMILIES: dict[str, tuple[str, ...]] = {
    "H100": ("H100-SXM",),
    "H200": ("H200",),
    "A100": ("A100-80GB", "A100-40GB"),
    "V100": ("V100-32GB", "V100-16GB"),
    "RTX4090": ("RTX-4090",),
    "4090": ("RTX-4090",),
    "A6000": ("RTX-A6000",),
    "RTXA6000": ("RTX-A6000",),
    "TESLAK80": ("K80",),
}


def _key(name: str) -> str:
    return name.upper().replace("_", "-").replace(" ", "-")


def match(name: str, memory_gb: float | None = None, field: str = "catalogue") -> tuple[CatalogueEntry, str]:
    """The catalogue entry for ``name`` and why it was chosen, in words: its own name, or for a family
    (``A100``, ``V100``) the variant whose memory matches ``memory_gb`` (the nearest one when none
    matches, the largest when no memory is given).

    >>> match("A100", 48)[1]
    'no A100 variant has 48 GB: the nearest in memory is A100-40GB (40 GB)'
    """
    by_key = {_key(n): e for n, e in CATALOGUE.items()}
    if _key(name) in by_key:
        entry = by_key[_key(name)]
        return entry, f"by name ({entry.name})"
    family = _FAMILIES.get(_key(name).replace("-", ""))
    if family:
        variants = [CATALOGUE[v] for v in family]
        if len(variants) == 1:
            return variants[0], f"by name ({name} is {variants[0].name})"
        if memory_gb is None:
            return variants[0], f"the largest {name} variant ({variants[0].memory_gb:g} GB; no memory given)"
        for v in variants:
            if abs(v.memory_gb - memory_gb) < 0.5:
                return v, f"the {name} variant with {v.memory_gb:g} GB"
        v = min(variants, key=lambda v: abs(v.memory_gb - memory_gb))
        return v, f"no {name} variant has {memory_gb:g} GB: the nearest in memory is {v.name} ({v.memory_gb:g} GB)"
    raise InputError(field, f"'{name}' is not in the GPU catalogue",
                     f"use one of {', '.join(CATALOGUE)}, or give memory_gb and a performance model")


def lookup(name: str, memory_gb: float | None = None, field: str = "catalogue") -> CatalogueEntry:
    """The catalogue entry for ``name``; for a family (``A100``, ``V100``) the variant whose memory
    matches ``memory_gb`` (the largest one when no memory is given)."""
    return match(name, memory_gb, field)[0]
