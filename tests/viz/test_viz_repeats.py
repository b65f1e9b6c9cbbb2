"""The tandem-repeat search behind draw_model's "×n" folding, against a brute-force search."""
from hypothesis import given
from hypothesis import strategies as st

from viz._repeats import find_repeat, tandem_blocks


def brute_force_coverage(seq):
    """Largest p * count over every (start, p, count >= 2) whose run is one unit repeated."""
    best = 0
    n = len(seq)
    for start in range(n):
        for p in range(1, (n - start) // 2 + 1):
            unit, count = seq[start:start + p], 1
            while start + (count + 1) * p <= n and seq[start + count * p:start + (count + 1) * p] == unit:
                count += 1
            if count >= 2:
                best = max(best, p * count)
    return best


@given(st.lists(st.sampled_from("abc"), max_size=24))
def test_find_repeat_covers_as_much_as_brute_force(seq):
    found = find_repeat(seq)
    best = brute_force_coverage(seq)
    if best == 0:
        assert found is None
        return
    start, p, count = found
    assert count >= 2 and p * count == best
    unit = seq[start:start + p]
    assert all(seq[start + j * p:start + (j + 1) * p] == unit for j in range(count))


@given(st.lists(st.sampled_from("xyz"), min_size=1, max_size=5), st.integers(2, 30),
       st.lists(st.sampled_from("pq"), max_size=3), st.lists(st.sampled_from("pq"), max_size=3))
def test_an_unrolled_loop_is_found_whole(unit, count, prefix, suffix):
    seq = prefix + unit * count + suffix
    start, p, n = find_repeat(seq)
    assert p * n >= len(unit) * count


def test_blocks_do_not_overlap_and_respect_accept():
    seq = list("p" + "ab" * 3 + "q" + "xyy" * 4)
    blocks = tandem_blocks(seq)
    assert (1, 2, 3) in blocks and (8, 3, 4) in blocks
    spans = sorted((s, s + p * c) for s, p, c in blocks)
    for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
        assert e1 <= s2 or (s1 <= s2 and e2 <= e1)  # disjoint or nested (a loop inside a unit)
    assert tandem_blocks(seq, accept=lambda s, p, c: c >= 4) == [(8, 3, 4)]
