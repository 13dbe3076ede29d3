"""The capacitated maximal covering model on cases whose optimum is known by hand."""

from __future__ import annotations

import numpy as np
import pytest

from coverage_gis.core.errors import InputError
from coverage_gis.siting.capacity import capacitated_mclp

# demand: A (100 elderly, needs 4 beds), B (50, 2 beds), C (80, 3.2 beds)
W = np.array([100.0, 50.0, 80.0])
NEED = W * 0.04
# candidate 0 reaches A and B, candidate 1 reaches C
PAIRS = (np.array([0, 1, 2]), np.array([0, 0, 1]), np.zeros(3))


def test_one_site_goes_where_its_beds_serve_most():
    r = capacitated_mclp(PAIRS, W, NEED, 1, 5.0)
    # candidate 0: A fully (4 beds) + half of B (1 of 2 beds) = 125; candidate 1: C = 80
    assert r.sites == (0,) and r.objective == pytest.approx(125.0)
    assert r.gain == pytest.approx((125.0,)) and r.status == "optimal"
    assert r.covered_before == 0.0 and r.covered_after == pytest.approx(125.0)


def test_two_sites_rank_by_weight_served():
    r = capacitated_mclp(PAIRS, W, NEED, 2, 5.0)
    assert r.sites == (0, 1) and r.gain == pytest.approx((125.0, 80.0))
    assert r.objective == pytest.approx(205.0)


def test_existing_beds_change_the_answer():
    # an existing home of 2 beds reaches A: half of A is served before
    existing = (np.array([0]), np.array([0]))
    r = capacitated_mclp(PAIRS, W, NEED, 1, 5.0, existing=existing, existing_capacity=[2.0])
    assert r.covered_before == pytest.approx(50.0)
    # candidate 0 now serves the rest of A (2 beds) and all of B (2 beds): +100 > C's 80
    assert r.sites == (0,) and r.objective == pytest.approx(100.0)
    assert r.covered_after == pytest.approx(150.0)
    # a larger home elsewhere covers all of A and B already: C's site is the one to add
    big = capacitated_mclp(
        PAIRS,
        W,
        NEED,
        1,
        5.0,
        existing=(np.array([0, 1]), np.array([0, 0])),
        existing_capacity=[6.0],
    )
    assert big.sites == (1,) and big.objective == pytest.approx(80.0)


def test_capacity_binds_and_ties_go_to_the_lower_rank():
    # two identical candidates reaching everyone, capacity 1 bed each: 25 elderly each
    pairs = (np.array([0, 1, 2, 0, 1, 2]), np.array([0, 0, 0, 1, 1, 1]))
    r = capacitated_mclp(pairs, W, NEED, 1, 1.0)
    assert r.sites == (0,) and r.objective == pytest.approx(25.0)
    r2 = capacitated_mclp(pairs, W, NEED, 1, 1.0, tie_break=[1, 0])
    assert r2.sites == (1,)


def test_no_sites_and_bad_inputs():
    r = capacitated_mclp(PAIRS, W, NEED, 0, 5.0)
    assert r.sites == () and r.objective == 0.0
    with pytest.raises(InputError):
        capacitated_mclp(PAIRS, W, NEED[:2], 1, 5.0)
    with pytest.raises(InputError):
        capacitated_mclp(PAIRS, W, NEED, 1, -1.0)
    with pytest.raises(InputError):
        capacitated_mclp(PAIRS, W, -NEED, 1, 5.0)
