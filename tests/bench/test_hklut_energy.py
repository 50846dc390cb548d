"""The HKLUT energy estimate: counts from the performance record, figures from the notes."""

import pytest

from edgeforge.bench.energy import dram_pj, sram_read_pj
from edgeforge.bench.hklut_energy import estimate
from edgeforge.schemes.hklut import HKLUTConfig
from edgeforge.sim.cycles.hklut import predict


def test_sram_rows_and_scaling():
    assert sram_read_pj(16 * 1024, 64) == 20.0      # nearest row above: 32 KB
    assert sram_read_pj(1024, 32) == 5.0            # 8 KB row, half a 64-bit word
    assert dram_pj(8) == 2000.0
    with pytest.raises(ValueError, match=r"at most 1 MiB .* got 2097152$"):
        sram_read_pj(2 * 1024 * 1024, 64)


def test_hklut_s_x4_is_at_the_physical_minimum_of_off_chip_traffic():
    result = estimate(HKLUTConfig(), 64, 64)
    assert result["offchip_bytes"] == {"in": 1, "out": 16}
    lines = {line["what"]: line for line in result["lines"]}
    # 3 MSB tables x 4 rotations x (1 stage-1 + 4 stage-2 pixels) = 60 reads of 16 KiB tables.
    assert lines["LUT reads, 16384 B table, 32-bit word"]["count"] == 60
    assert lines["LUT reads, 1024 B table, 32-bit word"]["count"] == 40
    assert lines["8-bit adds (table entries into sums)"]["count"] == 400
    total = sum(line["pj"] for line in result["lines"])
    assert result["pj_per_lr_pixel"]["total"] == pytest.approx(total)
    assert result["pj_per_output_pixel"]["total"] == pytest.approx(total / 16)
    assert result["pj_per_lr_pixel"]["off_chip"] == pytest.approx(17 * 250)


def test_every_access_of_the_performance_record_is_costed_once():
    config, width, height = HKLUTConfig(), 16, 8
    perf = predict(config, width=width, height=height, reads_per_table=(1, 1)).performance(1)
    lines = estimate(config, width, height)["lines"]

    def costed(prefix):
        return sum(line["count"] for line in lines if line["what"].startswith(prefix))

    pixels = width * height
    assert costed("LUT reads") * pixels == perf.traffic_by("lut ")[0]
    for what, memory in (("line-buffer", "line buffer "), ("re-order", "reorder ")):
        reads, writes = perf.traffic_by(memory)
        assert (costed(f"{what} reads") * pixels, costed(f"{what} writes") * pixels) \
            == pytest.approx((reads, writes))
    assert (costed("off-chip bytes in") * pixels, costed("off-chip bytes out") * pixels) \
        == (perf.offchip_bytes_in, perf.offchip_bytes_out)


def test_line_buffer_reads_are_fewer_on_the_border_rows():
    # 5 rows a window, less 3 row reads over the top two rows and 3 over the bottom two.
    lines = {line["what"]: line for line in estimate(HKLUTConfig(), 64, 48)["lines"]}
    assert lines["line-buffer reads, 8-bit word"]["count"] == pytest.approx(5 - 6 / 48)
    assert lines["line-buffer reads, 11-bit word"]["count"] == pytest.approx(4 * (5 - 6 / 96))
