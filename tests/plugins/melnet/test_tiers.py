"""The multiscale split: tiers cover every bin once and merge back exactly."""

from __future__ import annotations

import torch

from plugins.melnet.tiers import interleave, lower_context, take


def test_three_tiers_partition_the_grid_and_merge_back() -> None:
    for frames, bins in [(10, 8), (9, 7)]:
        grid = torch.arange(frames * bins, dtype=torch.float32).reshape(frames, bins)
        t1, t2, t3 = (take(grid, tier) for tier in (1, 2, 3))
        assert t1.numel() + t2.numel() + t3.numel() == grid.numel()
        even = interleave(t1, t2, axis=-1, total=bins)
        assert torch.equal(even, grid[0::2])
        assert torch.equal(interleave(even, t3, axis=-2, total=frames), grid)


def test_lower_context_holds_the_two_neighbours() -> None:
    grid = torch.arange(6 * 8, dtype=torch.float32).reshape(6, 8)
    t1, t2 = take(grid, 1), take(grid, 2)
    context = lower_context(t1, 2, tuple(t2.shape))
    # odd bin 3 sits between bins 2 and 4 of the same frame
    assert context[1, 1].tolist() == [grid[2, 2].item(), grid[2, 4].item()]
    assert context[1, 3].tolist() == [grid[2, 6].item(), grid[2, 6].item()]  # top edge repeats
    even = grid[0::2]
    context3 = lower_context(even, 3, tuple(take(grid, 3).shape))
    # odd frame 3 sits between frames 2 and 4
    assert context3[1, 5].tolist() == [grid[2, 5].item(), grid[4, 5].item()]
