"""Batched agglomerative clustering (section 3.1, eq. 3.3) against the unbatched one."""

import numpy as np
import pytest

from metricflow.cy import adjusted_rand_index, batched_clustering, full_clustering, sample
from metricflow.cy.clustering import cluster_report, max_distance_between_clusters
from metricflow.cy.distances import fs_distance_matrix
from metricflow.errors import InvalidInputError


def _blobs(seed=0, per=40, centers=4):
    """Points of the quintic in ``centers`` tight groups: the nearest points to a few
    well-separated centres (a clustering with an unambiguous answer)."""
    z = sample("fermat-quintic", 6000, seed=seed).points
    D = fs_distance_matrix(z[:200], z)
    chosen = [0]
    while len(chosen) < centers:  # farthest-point centres
        chosen.append(int(np.argmax(D[chosen].min(axis=0)[:200])))
    groups = [np.argsort(D[c])[:per] for c in chosen]
    idx = np.concatenate(groups)
    truth = np.repeat(np.arange(centers), per)
    perm = np.random.default_rng(seed).permutation(idx.size)
    return z[idx][perm], truth[perm]


def test_full_and_batched_recover_separated_groups():
    z, truth = _blobs()
    assert adjusted_rand_index(full_clustering(z, 4), truth) == pytest.approx(1.0)
    lb = batched_clustering(z, 40, 4)
    assert adjusted_rand_index(lb, truth) == pytest.approx(1.0)
    lo = batched_clustering(z, 40, 4, match="optimal")
    assert adjusted_rand_index(lo, truth) == pytest.approx(1.0)


def test_max_distance_between_clusters_brute_force():
    z = sample("quartic-k3", 120, seed=3).points
    la = np.arange(60) % 3
    lb = np.arange(60) % 3
    dm = max_distance_between_clusters(z[:60], la, z[60:], lb, 3)
    D = fs_distance_matrix(z[:60], z[60:])
    for a in range(3):
        for b in range(3):
            assert dm[a, b] == pytest.approx(D[np.ix_(la == a, lb == b)].max(), abs=1e-7)


def test_report_on_random_points():
    z = sample("fermat-quintic", 300, seed=2).points
    rep = cluster_report(z, 100, 5)
    assert sorted(set(rep["labels_batched"].tolist())) == list(range(5))
    assert sum(rep["sizes_batched"]) == 300
    # clustering groups nearer points than a random labelling does
    assert rep["mean_intra_full"] < rep["mean_intra_random"]
    assert rep["mean_intra_batched"] < rep["mean_intra_random"]


def test_ari_identities():
    a = np.array([0, 0, 1, 1, 2, 2])
    assert adjusted_rand_index(a, a) == 1.0
    assert adjusted_rand_index(a, (a + 1) % 3) == 1.0  # relabelling


def test_bad_arguments():
    z = sample("fermat-quintic", 50, seed=0).points
    with pytest.raises(InvalidInputError) as exc:
        batched_clustering(z, 1, 2)
    assert exc.value.argument == "batch_size"
    with pytest.raises(InvalidInputError) as exc:
        batched_clustering(z, 10, 20)
    assert exc.value.argument == "clusters"
