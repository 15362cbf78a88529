"""Variant assignment: sticky, weighted, covering the asked share, independent per experiment."""

from projects.analysis import assignment


def test_assignment_is_sticky_weighted_and_covers_the_asked_share():
    weights = [80, 20]
    seen = [assignment.assign(f"visitor-{i}", seed="s1", coverage=1.0, weights=weights) for i in range(20_000)]
    assert seen == [assignment.assign(f"visitor-{i}", seed="s1", coverage=1.0, weights=weights) for i in range(20_000)]
    share = seen.count(0) / len(seen)
    assert abs(share - 0.8) < 4 * (0.8 * 0.2 / 20_000) ** 0.5  # within 4 standard errors
    covered = [assignment.assign(f"visitor-{i}", seed="s1", coverage=0.3, weights=[1, 1, 1]) for i in range(20_000)]
    inside = [c for c in covered if c is not None]
    assert abs(len(inside) / 20_000 - 0.3) < 0.015
    assert {inside.count(k) // 100 for k in range(3)} <= {19, 20, 21}  # thirds of the covered 30%
    # Another experiment (another seed) splits the same people independently.
    other = [assignment.assign(f"visitor-{i}", seed="s2", coverage=1.0, weights=[1, 1]) for i in range(20_000)]
    both = sum(1 for a, b in zip(seen, other, strict=True) if a == 0 and b == 0)
    assert abs(both / 20_000 - 0.8 * 0.5) < 0.015
