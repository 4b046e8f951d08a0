import pandas as pd

from ledger.flows import FRAME_COLUMNS
from ledger.model import EXTERNAL
from ledger.simulate import synthetic_web, write_web_csv


def test_same_seed_gives_the_same_web():
    pd.testing.assert_frame_equal(synthetic_web(50, 500, seed=3), synthetic_web(50, 500, seed=3))


def test_different_seeds_give_different_webs():
    assert not synthetic_web(50, 500, seed=1).equals(synthetic_web(50, 500, seed=2))


def test_synthetic_web_has_no_self_loops_and_positive_cents():
    web = synthetic_web(20, 2000, seed=0)
    assert list(web.columns) == list(FRAME_COLUMNS)
    assert (web["payer"] != web["payee"]).all()
    assert (web["cents"] > 0).all()


def test_activity_follows_a_power_law():
    """The busiest company takes part in far more legs than the median one."""
    web = synthetic_web(200, 20_000, seed=0)
    counts = pd.concat([web["payer"], web["payee"]])
    counts = counts[counts != EXTERNAL].value_counts()
    assert counts.iloc[0] > 10 * counts.median()


def test_written_csv_keeps_exact_amounts(tmp_path):
    web = synthetic_web(5, 50, seed=0)
    path = tmp_path / "web.csv"
    write_web_csv(web, path)
    back = pd.read_csv(path, dtype={"amount": str})
    cents = back["amount"].map(lambda a: int(a.replace(".", "")))
    assert cents.tolist() == web["cents"].tolist()
