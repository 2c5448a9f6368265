"""The original solver's cloud-instance table (``cloud_instances_specs.csv``): instances with their GPU
model, GPUs per instance, memory, price per hour and interconnects.

Used two ways: a pool of instances (``gpu_pool.csv`` with ``instance_name,count``, the original's later
versions) becomes one node per instance; and in a pool of GPU types without ``dollar_per_hour`` a
type's price comes from the table, as the original looks it up. Parsing follows the original's
rules (notes in docs/legacy.md): a price range is averaged, a price is per instance unless the text
says "per GPU"; the internal interconnect is the first "N GB/s" (or TB/s) of its text, else the PCIe
generation's x16 bandwidth; the external bandwidth is "N Gbps" per instance, split over its GPUs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from colgen.errors import InputError
from colgen.io.legacy_csv import Table, number, read_table, short

PROVIDER, NAME, MODEL, PRICE = "Cloud Provider", "Instance Name", "GPU Model", "Price per Hour USD"
COUNT, GPUS, VRAM, MEMORY = "GPU Count", "num_gpus", "vram_gb_per_gpu", "GPU Memory per GPU"
INTERNAL, PCIE, EXTERNAL = "Internal GPU Interconnect Bandwidth", "PCIe Bandwidth", "External Network Bandwidth"
_REQUIRED = (PROVIDER, NAME, MODEL, PRICE)
_KNOWN = (COUNT, GPUS, VRAM, MEMORY, INTERNAL, PCIE, EXTERNAL)
#: GB/s of a PCIe x16 link per generation (the original's network generator's table).
_PCIE_X16 = {2.0: 8.0, 3.0: 16.0, 4.0: 32.0, 5.0: 64.0}
_NUM = r"(\d+(?:\.\d+)?)"


def model_name(gpu_model: str) -> str:
    """The GPU model without its vendor: ``NVIDIA A100`` -> ``A100``, ``AMD MI300X`` -> ``MI300X``."""
    return re.sub(r"^(NVIDIA|AMD)\s+", "", gpu_model.strip(), flags=re.IGNORECASE)


def _key(text: str) -> str:
    return re.sub(r"[\s_-]", "", text).upper()


@dataclass
class Price:
    per_gpu: float
    how: str              #: how it was read, for a notice


@dataclass
class Instance:
    """One row of the table, parsed lazily: only the rows a pool uses must be well formed."""

    table: Table
    line: int
    row: list[str]

    def cell(self, column: str) -> str | None:
        return self.table.get(self.row, column)

    @property
    def provider(self) -> str:
        return self.cell(PROVIDER) or ""

    @property
    def name(self) -> str:
        return self.cell(NAME) or ""

    @property
    def model(self) -> str:
        return model_name(self.cell(MODEL) or "")

    def where(self, column: str | None = None) -> str:
        return self.table.where(self.line, column)

    def num_gpus(self) -> int:
        text = self.cell(GPUS)
        column = GPUS
        if not text:
            column = COUNT
            found = re.findall(r"\d+", self.cell(COUNT) or "")
            if not found:
                raise InputError(self.where(COUNT), f"'{short(self.cell(COUNT) or '')}' gives no GPU count",
                                 "give the GPUs per instance in num_gpus")
            text = found[0]
        value = number(text, self.where(column))
        if value != int(value) or value < 1:
            raise InputError(self.where(column), f"{value:g} is not a whole number of GPUs", "fix the value")
        return int(value)

    def memory_gb(self) -> float:
        text = self.cell(VRAM)
        if text:
            value = number(text, self.where(VRAM))
            where = self.where(VRAM)
        else:
            found = re.findall(_NUM, self.cell(MEMORY) or "")
            if not found:
                raise InputError(self.where(MEMORY), f"'{short(self.cell(MEMORY) or '')}' gives no memory",
                                 "give the GB per GPU in vram_gb_per_gpu")
            value, where = float(found[0]), self.where(MEMORY)
        if value <= 0:
            raise InputError(where, f"{value:g} GB is not a memory size", "give the GB per GPU")
        return value

    def price(self) -> Price | None:
        """The price per GPU-hour, or ``None`` when the row has none ("Contact for pricing", empty)."""
        text = self.cell(PRICE) or ""
        if not re.search(r"\d", text) or "contact" in text.lower():
            return None
        span = re.search(rf"\$?\s*{_NUM}\s*-\s*\$?\s*{_NUM}", text)
        numbers = re.findall(_NUM, text)
        notes = []
        if span:
            value = (float(span[1]) + float(span[2])) / 2
            notes.append(f"the range '{short(text)}' averaged, as the original does")
        elif len(numbers) == 1:
            value = float(numbers[0])
        else:
            raise InputError(self.where(PRICE), f"cannot tell the price in '{short(text)}'",
                             "give one number (or a range N-M) of USD per hour")
        if "estimated" in text.lower():
            notes.append("an estimate")
        if "+" in text:
            notes.append(f"'{short(text)}' is a lower bound")
        if "per gpu" in text.lower():
            per_gpu = value
            how = f"{value:g} USD per GPU-hour"
        else:
            gpus = self.num_gpus()
            per_gpu = value / gpus
            how = f"{value:g} USD per instance-hour / {gpus} GPUs"
        return Price(per_gpu, how + (f" ({'; '.join(notes)})" if notes else ""))

    def intra_gbps(self) -> tuple[float, str]:
        """GB/s between two GPUs of one instance, and where it comes from."""
        text = self.cell(INTERNAL) or ""
        m = re.search(rf"{_NUM}\s*(GB/s|TB/s)", text)
        if m:
            value = float(m[1]) * (1000.0 if m[2] == "TB/s" else 1.0)
            return value, f"'{short(text)}'"
        pcie = self.cell(PCIE) or ""
        m = re.search(r"PCIe\s*([0-9.]+)", pcie, re.IGNORECASE)
        if m:
            lanes = re.search(r"x(\d+)", pcie, re.IGNORECASE)
            base = _PCIE_X16.get(float(m[1])) if re.fullmatch(r"\d+(\.\d+)?", m[1]) else None
            if base is not None:
                value = base * (int(lanes[1]) / 16.0 if lanes else 1.0)
                return value, f"no GB/s in the internal interconnect, so PCIe: '{short(pcie)}'"
        raise InputError(self.where(INTERNAL), f"'{short(text)}' has no GB/s figure, and '{short(pcie)}' names no "
                         "PCIe generation", "give e.g. '600 GB/s NVLink per GPU' or 'PCIe 4.0 x16'")

    def external_gbps(self) -> float:
        """The instance's network bandwidth in Gbps (bits)."""
        text = self.cell(EXTERNAL) or ""
        m = re.search(rf"{_NUM}\s*Gbps", text)
        if not m:
            raise InputError(self.where(EXTERNAL), f"'{short(text)}' has no 'N Gbps' figure",
                             "give e.g. '100 Gbps', or import with --generate-network INTRA INTER")
        value = float(m[1])
        if value <= 0:
            raise InputError(self.where(EXTERNAL), f"{value:g} Gbps is not a bandwidth", "give a positive Gbps")
        return value


class CloudTable:
    """``cloud_instances_specs.csv``: rows by instance name and by GPU model."""

    def __init__(self, path: Path):
        self.path = path
        self.table = read_table(path, _REQUIRED, _KNOWN,
                                fix="give the original's cloud_instances_specs.csv (or --cloud-specs FILE)")
        self.rows = [Instance(self.table, line, row) for line, row in self.table.rows]
        if not (self.table.has(GPUS) or self.table.has(COUNT)):
            raise InputError(f"{path} line 1", f"the header has neither '{GPUS}' nor '{COUNT}'",
                             "give the GPUs per instance")

    def instance(self, name: str, provider: str | None, where: str) -> tuple[Instance, list[str]]:
        """The row of instance ``name`` (of ``provider``, else the cheapest as the original picks it),
        with notices."""
        rows = [r for r in self.rows if r.name == name]
        if provider is not None:
            rows = [r for r in rows if r.provider == provider]
        if not rows:
            of = f" of provider '{short(provider)}'" if provider is not None else ""
            raise InputError(where, f"instance '{short(name)}'{of} is not in {self.path}",
                             "use an instance name of the table" + (" (or another --cloud-provider)"
                                                                     if provider else ""))
        rows = self._last_per_provider(rows, where)
        if len(rows) == 1:
            return rows[0], []
        priced = [(r.price(), r) for r in rows]
        with_price = [(p.per_gpu, r) for p, r in priced if p is not None]
        chosen = rows[0] if not with_price else min(with_price, key=lambda x: x[0])[1]
        providers = ", ".join(sorted({r.provider for r in rows}))
        return chosen, [f"instance {short(name)} is listed by {providers}: using {chosen.provider}'s "
                        f"({chosen.where()}), the cheapest, as the original does without --cloud-provider"]

    def _last_per_provider(self, rows: list[Instance], where: str) -> list[Instance]:
        """One row per provider: the original keeps the last; rows that say the same thing again are
        harmless, rows that differ are an error."""
        out: dict[str, Instance] = {}
        for r in rows:
            before = out.get(r.provider)
            if before is not None and [c.strip() for c in before.row] != [c.strip() for c in r.row]:
                raise InputError(r.where(), f"lists {r.provider} {short(r.name)} again, differently (first on line "
                                 f"{before.line}); the original would keep this row silently", "keep one row")
            out.setdefault(r.provider, r)
        return list(out.values())

    def price_of_type(self, gpu_type: str, provider: str | None) -> tuple[float, str] | None:
        """A GPU type's price per GPU-hour as the original finds it for a pool without
        ``dollar_per_hour``: per (provider, GPU model) the last row with a price; the given provider's,
        else the cheapest. Models match by name (``A10`` is not ``A100``: the original's substring
        test would take an A100's price for an A10)."""
        last: dict[str, tuple[Instance, Price]] = {}
        for r in self.rows:
            if _key(r.model) != _key(gpu_type) or (provider is not None and r.provider != provider):
                continue
            p = r.price()
            if p is not None:
                last[r.provider] = (r, p)
        if not last:
            return None
        r, p = min(last.values(), key=lambda x: x[1].per_gpu) if provider is None else next(iter(last.values()))
        how = f"{r.provider} {r.name}, {self.path.name} line {r.line}: {p.how}"
        if provider is None and len(last) > 1:
            how += f"; the cheapest of {', '.join(sorted(last))}, as the original picks without --cloud-provider"
        return p.per_gpu, how
